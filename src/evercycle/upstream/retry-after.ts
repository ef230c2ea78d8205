/** The longest wait a Retry-After may impose on us: an upstream asking for more is capped, not obeyed blindly. */
export const MAX_RETRY_AFTER_MS = 3_600_000
/** When a 429 says nothing about how long: a second, so callers do not hammer. */
export const DEFAULT_RETRY_AFTER_MS = 1000

/**
 * Milliseconds a `Retry-After` value asks for, in either form RFC 9110 allows: delay-seconds ("2") or an
 * HTTP-date. Missing, malformed or past values give the default; longer than an hour is capped.
 */
export function retryAfterMs(value: string | string[] | undefined, now: number = Date.now()): number {
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  if (text === undefined || text === '') return DEFAULT_RETRY_AFTER_MS
  let ms: number
  if (/^\d+$/.test(text)) ms = Number(text) * 1000
  else {
    const at = Date.parse(text)
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS
    ms = at - now
  }
  if (ms <= 0) return DEFAULT_RETRY_AFTER_MS
  return Math.min(ms, MAX_RETRY_AFTER_MS)
}

/** Whole seconds for a Retry-After header we send (at least 1). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)))
}
