/**
 * Keys that could reach Object.prototype when a consumer later copies or merges an object carrying them:
 * request bodies, operation configs, generated specs and CLI assignments all refuse them.
 */
export const POISON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** A poison key anywhere in a parsed JSON value, at any depth. */
export function hasPoisonKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasPoisonKey)
  if (typeof value !== 'object' || value === null) return false
  return Object.keys(value).some((k) => POISON_KEYS.has(k) || hasPoisonKey((value as Record<string, unknown>)[k]))
}
