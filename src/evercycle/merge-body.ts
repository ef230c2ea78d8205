import { domainError } from '../errors.js'
import { POISON_KEYS } from '../util/poison-keys.js'

/** Refuses keys that could reach Object.prototype when a consumer later copies or merges the value. */
export function assertNoPoisonKeys(value: unknown, path = 'body', depth = 0): void {
  if (depth > 64) {
    throw domainError('validation_error', 'Body is nested too deeply', { details: [{ field: path, message: 'nesting exceeds 64 levels' }] })
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoPoisonKeys(item, `${path}[${i}]`, depth + 1))
  } else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      if (POISON_KEYS.has(key)) {
        throw domainError('validation_error', `Forbidden key "${key}" in request body`, {
          details: [{ field: `${path}.${key}`, message: 'forbidden key' }]
        })
      }
      assertNoPoisonKeys((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1)
    }
  }
}

/**
 * The old server's `merged = defaults.copy(); merged.update(client)`: shallow, client wins, and the fields
 * that were consumed as path parameters are dropped from what is sent.
 */
export function mergeBody(
  defaults: Record<string, unknown>,
  client: Record<string, unknown>,
  omit: readonly string[] = []
): Record<string, unknown> {
  assertNoPoisonKeys(client)
  const merged: Record<string, unknown> = {}
  for (const source of [defaults, client]) {
    for (const key of Object.keys(source)) {
      if (omit.includes(key) || POISON_KEYS.has(key)) continue
      merged[key] = source[key]
    }
  }
  return merged
}
