import { domainError } from '../errors.js'
import { checkJsonBounds } from '../util/json-bounds.js'

/**
 * Refuses a run's input that is larger or deeper than an execution may store, before anything serialises it
 * (a 5,000-deep object passes the JSON parser but overflows the stack of JSON.stringify): too large is 413
 * `payload_too_large`, too deep 400 `invalid_request`, both in the shape of FlowRunner's malformed requests.
 */
export function checkRunInput(input: unknown, limits: { maxInputBytes: number; maxDepth: number }): void {
  const verdict = checkJsonBounds(input, { maxBytes: limits.maxInputBytes, maxDepth: limits.maxDepth }, 'input')
  if (verdict.ok) return
  const reason = verdict.message.replace(/^input /, '')
  const details = { field: 'input', reason, location: 'body', errors: [{ field: 'input', reason }] }
  if (verdict.code === 'result_too_large') throw domainError('payload_too_large', `The request was too large: ${verdict.message}`, { details })
  throw domainError('invalid_request', `The request was invalid: ${verdict.message}`, { details })
}
