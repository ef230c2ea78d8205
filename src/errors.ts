import createError from '@fastify/error'

/**
 * Domain errors: each carries a machine-readable `code` and the HTTP status it maps to. `details` is safe to
 * show to the client; `headers` (e.g. Retry-After, Allow) are set on the reply by the error handler.
 */
export interface DomainError extends Error {
  code: string
  statusCode: number
  details?: unknown
  headers?: Record<string, string>
}

const kinds = {
  validation_error: createError<[string]>('validation_error', '%s', 400),
  unauthorized: createError<[string]>('unauthorized', '%s', 401),
  forbidden: createError<[string]>('forbidden', '%s', 403),
  not_found: createError<[string]>('not_found', '%s', 404),
  method_not_allowed: createError<[string]>('method_not_allowed', '%s', 405),
  conflict: createError<[string]>('conflict', '%s', 409),
  rate_limited: createError<[string]>('rate_limited', '%s', 429),
  upstream_error: createError<[string]>('upstream_error', '%s', 502),
  upstream_unavailable: createError<[string]>('upstream_unavailable', '%s', 502),
  upstream_invalid_response: createError<[string]>('upstream_invalid_response', '%s', 502),
  upstream_timeout: createError<[string]>('upstream_timeout', '%s', 504),
  configuration_error: createError<[string]>('configuration_error', '%s', 500),
  // load shedding: this replica is past its event-loop or memory limits
  overloaded: createError<[string]>('overloaded', '%s', 503),
  // FlowRunner (/api/v1)
  invalid_request: createError<[string]>('invalid_request', '%s', 400)
}

export type ErrorCode = keyof typeof kinds

export interface ErrorExtras {
  details?: unknown
  headers?: Record<string, string>
  /** Overrides the kind's status, e.g. an upstream 404 passed through as `upstream_error`. */
  statusCode?: number
  cause?: unknown
}

export function domainError(code: ErrorCode, message: string, extras: ErrorExtras = {}): DomainError {
  const err = new kinds[code](message) as DomainError
  // @fastify/error upper-cases codes; ours are the documented lower-case ones
  err.code = code
  err.statusCode = extras.statusCode ?? err.statusCode
  if (extras.details !== undefined) err.details = extras.details
  if (extras.headers !== undefined) err.headers = extras.headers
  if (extras.cause !== undefined) err.cause = extras.cause
  return err
}

export function isDomainError(err: unknown): err is DomainError {
  return (
    err instanceof Error &&
    typeof (err as DomainError).code === 'string' &&
    typeof (err as DomainError).statusCode === 'number' &&
    Object.hasOwn(kinds, (err as DomainError).code)
  )
}
