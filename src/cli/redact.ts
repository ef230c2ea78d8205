/** Key names whose values are secrets wherever they appear in a request or a response. */
const SECRET_KEY = /pass(word|wd|phrase)?$|secret|token|authori[sz]ation|api[-_]?key|cookie|credential|session|signature|private[-_]?key/i
/** A JWT (three base64url parts, the first a JSON header): an id or access token under an innocent key. */
const JWT = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
export const REDACTED = '[redacted]'

/**
 * A copy with secrets replaced: values under secret-sounding keys, JWT-shaped strings, and any string that
 * contains one of the known secrets (the API key, a password given this run).
 */
export function redact(value: unknown, known: readonly string[] = [], depth = 0): unknown {
  if (depth > 32) return REDACTED
  if (typeof value === 'string') {
    if (JWT.test(value)) return REDACTED
    return known.some((s) => s.length >= 4 && value.includes(s)) ? REDACTED : value
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, known, depth + 1))
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      // defineProperty: a "__proto__" key from a parsed response stays a plain key
      Object.defineProperty(out, key, {
        value: SECRET_KEY.test(key) && v !== null && v !== '' ? REDACTED : redact(v, known, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true
      })
    }
    return out
  }
  return value
}
