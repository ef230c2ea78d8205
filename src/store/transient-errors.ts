import { DatabaseError } from './driver.js'

/**
 * SQLSTATE classes worth another try: connection exception (08), insufficient resources (53), operator
 * intervention (57: shutdown, a statement timeout or cancel).
 */
const TRANSIENT_CLASSES = new Set(['08', '53', '57'])
/** Serialization failure, deadlock, lock timeout: the same statement may well succeed next time. */
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03'])
/** Socket errors between us and the database. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'])
/** pg's own errors for a lost connection or an exhausted pool, and a closed PGlite, carry no code. */
const CONNECTION_MESSAGE = /connection|terminated|timeout|timed out|not queryable|is closed|pool/i

/**
 * Whether a failed database call may succeed if tried again (the database or the network was briefly away, or
 * the transaction lost a race), as opposed to one that would fail the same way each time: a value that can't be
 * serialised (RangeError, TypeError) or that the database refuses (data exceptions, constraints).
 */
export function isTransientError(err: unknown): boolean {
  if (err instanceof DatabaseError) {
    const code = err.code ?? ''
    return TRANSIENT_CODES.has(code) || TRANSIENT_CLASSES.has(code.slice(0, 2))
  }
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
  return err.constructor === Error && CONNECTION_MESSAGE.test(err.message)
}
