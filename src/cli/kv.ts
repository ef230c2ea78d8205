import { usageError } from './cli-error.js'
import { POISON_KEYS } from '../util/poison-keys.js'

export interface Assignment {
  key: string
  value: string
  /** `key:=value`: the value is JSON rather than text. */
  json: boolean
}

/** `key=value` (text) or `key:=value` (JSON), split at the first `=` so values may contain `=`. */
export function parseAssignment(raw: string, flag: string, allowJson = false): Assignment {
  const eq = raw.indexOf('=')
  if (eq <= 0) throw usageError(`${flag} expects key=value, got ${JSON.stringify(raw)}`)
  let key = raw.slice(0, eq)
  const json = allowJson && key.endsWith(':')
  if (json) key = key.slice(0, -1)
  key = key.trim()
  if (key === '') throw usageError(`${flag} expects key=value, got ${JSON.stringify(raw)}`)
  if (POISON_KEYS.has(key)) throw usageError(`${flag}: "${key}" is not allowed as a key`)
  return { key, value: raw.slice(eq + 1), json }
}

/** Commander's accumulator for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
