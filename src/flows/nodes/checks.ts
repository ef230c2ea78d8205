import { parseDuration } from '../duration.js'
import { compileExpression, ExpressionError, hasExpression } from '../expressions.js'
import type { ParamIssue } from './node-type.js'

/** A literal URL must be absolute http(s); one built by an expression can only be checked when it runs. */
export function checkUrl(url: string, path: string[]): ParamIssue[] {
  if (hasExpression(url)) return []
  try {
    const parsed = new URL(url)
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return []
  } catch {
    // reported below
  }
  return [{ path, reason: 'must be an absolute http:// or https:// URL' }]
}

export function checkDuration(value: number | string | undefined, path: string[]): ParamIssue[] {
  if (value === undefined || (typeof value === 'string' && hasExpression(value))) return []
  return parseDuration(value) === undefined
    ? [{ path, reason: 'must be milliseconds or a duration like "5s" or "2m", at most 7 days' }]
    : []
}

export function checkJsonata(source: string, path: string[]): ParamIssue[] {
  try {
    compileExpression(source)
    return []
  } catch (err) {
    if (err instanceof ExpressionError) return [{ path, reason: `${err.message} (at character ${err.offset + 1})` }]
    throw err
  }
}

/** A `flow` or `foreach` node naming the flow it is in would run itself, forever (indirect loops stop at the depth limit). */
export function checkNotSelf(flow: string, flowId: string | undefined): ParamIssue[] {
  return flowId !== undefined && flow === flowId ? [{ path: ['flow'], reason: 'a flow may not run itself' }] : []
}

/** A `foreach` node's items: a literal array, or a string holding a `${...}` that gives one. */
export function checkItems(items: string | unknown[]): ParamIssue[] {
  return typeof items === 'string' && !hasExpression(items) ? [{ path: ['items'], reason: 'must be an array or a ${...} template giving one' }] : []
}
