import type { TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { domainError } from '../errors.js'

/**
 * Checks a query or body against the operation's schema before anything is sent, as the gateway's route
 * would. Command-line values are text, so they are converted first (`--set price=12` becomes a number where
 * the schema says number).
 */
export function checkInput(schema: TObject, value: Record<string, unknown>, where: 'query' | 'body'): Record<string, unknown> {
  const converted = Value.Convert(schema, value) as Record<string, unknown>
  const seen = new Set<string>()
  const details: Array<{ field: string; message: string }> = []
  for (const e of Value.Errors(schema, converted)) {
    const field = `${where}${e.path.replace(/\//g, '.')}`
    if (seen.has(field)) continue
    seen.add(field)
    details.push({ field, message: e.message })
  }
  const first = details[0]
  if (first !== undefined) {
    throw domainError('validation_error', `${first.field} ${first.message}`, { details })
  }
  return converted
}
