import { readFile } from 'node:fs/promises'
import type { CallRequest } from './backend.js'
import { usageError } from './cli-error.js'
import { parseAssignment } from './kv.js'
import { readStdin } from './stdin.js'

export interface CallFlags {
  param?: string[]
  query?: string[]
  body?: string
  set?: string[]
}

/**
 * `--param`/`--query`/`--body`/`--set` into a call. `--body` is JSON text, `@file`, or `@-` for stdin; each
 * `--set key=value` then sets one top-level field as text (`key:=value` for JSON: numbers, booleans, objects).
 */
export async function callRequestFrom(operation: string, flags: CallFlags): Promise<CallRequest> {
  const pathParams: Record<string, string> = {}
  for (const raw of flags.param ?? []) {
    const { key, value } = parseAssignment(raw, '--param')
    pathParams[key] = value
  }
  const query: Record<string, string | string[]> = {}
  for (const raw of flags.query ?? []) {
    const { key, value } = parseAssignment(raw, '--query')
    const previous = query[key]
    // a repeated key is a list, as `?status=a&status=b`
    query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value]
  }
  let body: Record<string, unknown> | undefined
  if (flags.body !== undefined) body = parseBody(await bodyText(flags.body), flags.body)
  for (const raw of flags.set ?? []) {
    const { key, value, json } = parseAssignment(raw, '--set', true)
    body ??= {}
    body[key] = json ? parseJsonValue(value, `--set ${key}:=`) : value
  }
  return { operation, pathParams, query, ...(body === undefined ? {} : { body }) }
}

async function bodyText(flag: string): Promise<string> {
  if (flag === '@-') return readStdin()
  if (flag.startsWith('@')) {
    try {
      return await readFile(flag.slice(1), 'utf8')
    } catch (err) {
      throw usageError(`--body ${flag}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  return flag
}

function parseBody(text: string, flag: string): Record<string, unknown> {
  const value = parseJsonValue(text, flag.startsWith('@') ? `--body ${flag}` : '--body')
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError('--body must be a JSON object')
  return value as Record<string, unknown>
}

function parseJsonValue(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw usageError(`${what} is not valid JSON (${(err as Error).message})`)
  }
}
