import { domainError } from '../errors.js'
import type { QueryValue, UpstreamRequest } from './client.js'
import { mergeBody } from './merge-body.js'
import { methodHasBody, type Operation } from './operation.js'
import { assertSafeUpstreamPath, renderPath } from './path-template.js'

export interface OperationInput {
  query?: Record<string, unknown>
  body?: Record<string, unknown>
}

/**
 * Turns a client's query and body into the upstream request: path parameters pulled from where the
 * definition says (and removed from what is forwarded), defaults merged under the client's values.
 */
export function prepareCall(op: Operation, input: OperationInput, baseUrl: string): UpstreamRequest {
  const values: Record<string, string> = {}
  const fromQuery: string[] = []
  const fromBody: string[] = []
  for (const [name, param] of Object.entries(op.pathParams)) {
    const source = param.from === 'query' ? input.query : input.body
    ;(param.from === 'query' ? fromQuery : fromBody).push(name)
    const raw = source?.[name] ?? param.default
    if (raw === undefined || raw === null || raw === '') {
      throw domainError('validation_error', `Path parameter "${name}" is required (in the ${param.from})`, {
        details: [{ field: `${param.from}.${name}`, message: 'is required' }]
      })
    }
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      throw domainError('validation_error', `Path parameter "${name}" must be a string or a number`, {
        details: [{ field: `${param.from}.${name}`, message: 'must be a string or a number' }]
      })
    }
    values[name] = String(raw)
  }
  const path = renderPath(op.path, values)
  assertSafeUpstreamPath(baseUrl, op.path, path)

  const query: Record<string, QueryValue> = { ...op.defaultQuery }
  const given = input.query
  if (given !== undefined) {
    for (const key of Object.keys(given)) {
      const value = given[key]
      if (value === undefined || value === null || fromQuery.includes(key)) continue
      query[key] = toQueryValue(key, value)
    }
  }
  const body = methodHasBody(op.method) ? JSON.stringify(mergeBody(op.defaultBody, input.body ?? {}, fromBody)) : undefined
  return { method: op.method, path, query, body, headers: op.headers }
}

function toQueryValue(key: string, value: unknown): QueryValue {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
    return value as Array<string | number | boolean>
  }
  throw domainError('validation_error', `Query parameter "${key}" must be a scalar or a list of scalars`, {
    details: [{ field: `query.${key}`, message: 'must be a scalar or a list of scalars' }]
  })
}
