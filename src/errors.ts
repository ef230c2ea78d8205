/**
 * Domain errors: a plain class the core throws, free of any web framework. Each carries a machine-readable
 * `code` and the HTTP status it maps to; the edge (app/error-handlers.ts) turns it into a reply. `details` is safe
 * to show to the client; `headers` (e.g. Retry-After, Allow) are set on the reply by the error handler.
 */
const STATUS = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  upstream_error: 502,
  upstream_unavailable: 502,
  upstream_invalid_response: 502,
  upstream_timeout: 504,
  // the upstream budget: no room now (503), Evercycle's own 429 pause (429), the circuit breaker open (503)
  upstream_busy: 503,
  upstream_rate_limited: 429,
  upstream_circuit_open: 503,
  configuration_error: 500,
  // load shedding: this replica is past its event-loop or memory limits
  overloaded: 503,
  // FlowRunner (/api/v1)
  invalid_request: 400,
  // an inbound webhook without a valid X-FlowRunner-Signature
  invalid_signature: 401,
  // an Idempotency-Key used again with a different request
  idempotency_key_reused: 422
} as const satisfies Record<string, number>

export type ErrorCode = keyof typeof STATUS

export interface ErrorExtras {
  details?: unknown
  headers?: Record<string, string>
  /** Overrides the code's status, e.g. an upstream 404 passed through as `upstream_error`. */
  statusCode?: number
  cause?: unknown
}

export class DomainError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly details?: unknown
  readonly headers?: Record<string, string>

  constructor(code: ErrorCode, message: string, extras: ErrorExtras = {}) {
    super(message, extras.cause === undefined ? undefined : { cause: extras.cause })
    this.name = 'DomainError'
    this.code = code
    this.statusCode = extras.statusCode ?? STATUS[code]
    if (extras.details !== undefined) this.details = extras.details
    if (extras.headers !== undefined) this.headers = extras.headers
  }
}

export function domainError(code: ErrorCode, message: string, extras: ErrorExtras = {}): DomainError {
  return new DomainError(code, message, extras)
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError
}
