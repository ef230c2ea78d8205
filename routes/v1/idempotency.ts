import { Type } from '@sinclair/typebox'
import { domainError } from '../../src/errors.js'
import { IDEMPOTENCY_KEY_PATTERN } from '../../src/flows/triggers/hook-request.js'

export const IdempotencyKeyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Printable ASCII, at most 255 characters: a repeat within 24 h returns the first request\'s execution' })
  )
})

/** The request's Idempotency-Key, or 400 when it is not 1 to 255 printable ASCII characters. */
export function idempotencyKey(headers: { 'idempotency-key'?: string | string[] | undefined }): string | undefined {
  const key = headers['idempotency-key']
  if (key === undefined) return undefined
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    const reason = 'must be 1 to 255 printable ASCII characters, given once'
    throw domainError('invalid_request', `The request was invalid: Idempotency-Key ${reason}`, { details: { field: 'Idempotency-Key', reason, location: 'headers' } })
  }
  return key
}
