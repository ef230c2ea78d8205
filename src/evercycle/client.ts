import type { EventEmitter } from 'node:events'
import { Pool, type Dispatcher } from 'undici'
import { performance } from 'node:perf_hooks'
import { domainError, isDomainError, type DomainError } from '../errors.js'
import type { AuthenticationResult, TokenSet } from './tokens.js'
import type { HttpMethod } from './operation.js'
import { answeredFailure, transportFailure, type UpstreamFailure } from './upstream/upstream-activity.js'

/**
 * What aborts an upstream call: an AbortSignal, or (as undici also takes) an EventEmitter that emits `abort`
 * and says whether it has. The gateway's per-connection signal is the latter: adding and removing an
 * EventTarget listener, as undici does for every request, costs several times an EventEmitter's.
 */
export type UpstreamSignal = AbortSignal | (EventEmitter & { readonly aborted: boolean })

export type QueryValue = string | number | boolean | Array<string | number | boolean>

export interface UpstreamRequest {
  method: HttpMethod
  /** Path below the base URL, already rendered and encoded. */
  path: string
  query?: Record<string, QueryValue | undefined>
  /** Serialized JSON body. */
  body?: string
  headers?: Record<string, string>
  tokens?: TokenSet
  requestId?: string
  signal?: UpstreamSignal
  /** What the call is for, as metrics label it: a registry operation name, `auth.signin` or `auth.refresh`. */
  operation?: string
}

/** Told about upstream traffic (metrics). Its methods must be cheap and must not throw. */
export interface UpstreamObserver {
  /** One exchange, timed to the response headers; `outcome` is the HTTP status or the failure's error code. */
  exchange(operation: string, outcome: string, seconds: number): void
  /** A sign-in or refresh once its answer was read: whether it yielded tokens. */
  authentication(kind: 'signin' | 'refresh', ok: boolean): void
  /** A call answered 4xx/5xx or not at all (a call its own caller aborted is none). */
  failed?(failure: UpstreamFailure): void
}

export type UpstreamResponse = Dispatcher.ResponseData

export interface EvercycleClientOptions {
  baseUrl: string
  timeoutMs: number
  connections: number
  /** Told of every exchange and sign-in (the metrics); without one, nothing is timed. */
  observer?: UpstreamObserver | undefined
}

/** Evercycle's sign-in and refresh, by the operation name the observer is told (fixed paths: no values in them). */
export const AUTH_PATHS = { 'auth.signin': '/v1/auth/signin', 'auth.refresh': '/v1/auth/refresh' } as const

const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'])

/**
 * The one upstream client: a keep-alive undici pool to Evercycle's origin with explicit timeouts and TLS
 * verification left on. It speaks Evercycle's auth dialect and maps transport failures to domain errors.
 */
export class EvercycleClient {
  readonly baseUrl: string
  private readonly prefix: string
  private readonly pool: Pool
  private readonly observer: UpstreamObserver | undefined

  constructor(options: EvercycleClientOptions) {
    const url = new URL(options.baseUrl)
    this.baseUrl = options.baseUrl
    this.observer = options.observer
    this.prefix = url.pathname.replace(/\/$/, '')
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000)
    })
  }

  /**
   * One exchange (plus the one retry `retryOrThrow` allows), observed when an observer is set. A single async
   * function on the usual path: every extra async layer costs each call a promise and a microtask.
   */
  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const observer = this.observer
    const started = observer === undefined ? 0 : performance.now()
    const options: Dispatcher.RequestOptions = {
      method: req.method,
      path: this.prefix + req.path + queryString(req.query),
      headers: this.headers(req),
      body: req.body ?? null,
      signal: req.signal
    }
    let res: UpstreamResponse
    try {
      try {
        res = await this.pool.request(options)
      } catch (err) {
        res = await this.retryOrThrow(req, options, err)
      }
    } catch (err) {
      if (observer !== undefined) {
        const aborted = req.signal?.aborted === true
        const outcome = aborted ? 'aborted' : isDomainError(err) ? err.code : 'error'
        observer.exchange(req.operation ?? 'unknown', outcome, (performance.now() - started) / 1000)
        if (!aborted) observer.failed?.(transportFailure(req, toDomainError(err)))
      }
      throw err
    }
    if (observer !== undefined) {
      observer.exchange(req.operation ?? 'unknown', String(res.statusCode), (performance.now() - started) / 1000)
      if (res.statusCode >= 400) observer.failed?.(answeredFailure(req, res.statusCode))
    }
    return res
  }

  /** After a failed attempt: the retry's response, or the failure as a domain error. */
  private async retryOrThrow(req: UpstreamRequest, options: Dispatcher.RequestOptions, err: unknown): Promise<UpstreamResponse> {
    // A keep-alive socket the upstream closed under us: safe to repeat only for an idempotent read.
    if (req.method === 'GET' && isReset(err) && !req.signal?.aborted) {
      try {
        return await this.pool.request(options)
      } catch (retryErr) {
        throw toDomainError(retryErr)
      }
    }
    throw toDomainError(err)
  }

  signIn(username: string, password: string, requestId?: string): Promise<AuthenticationResult> {
    return this.observedAuthCall('signin', AUTH_PATHS['auth.signin'], { username, password }, requestId)
  }

  refresh(refreshToken: string, requestId?: string): Promise<AuthenticationResult> {
    return this.observedAuthCall('refresh', AUTH_PATHS['auth.refresh'], { refreshToken }, requestId)
  }

  close(): Promise<void> {
    return this.pool.close()
  }

  private headers(req: UpstreamRequest): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    if (req.body !== undefined) headers['content-type'] = 'application/json'
    if (req.requestId !== undefined) headers['x-request-id'] = req.requestId
    if (req.tokens !== undefined) {
      headers['access-token'] = req.tokens.accessToken
      headers.authorization = req.tokens.idToken
    }
    return headers
  }

  private async observedAuthCall(kind: 'signin' | 'refresh', path: string, payload: object, requestId?: string): Promise<AuthenticationResult> {
    try {
      const result = await this.authCall(kind, path, payload, requestId)
      this.observer?.authentication(kind, true)
      return result
    } catch (err) {
      this.observer?.authentication(kind, false)
      throw err
    }
  }

  private async authCall(kind: 'signin' | 'refresh', path: string, payload: object, requestId?: string): Promise<AuthenticationResult> {
    const res = await this.request({ method: 'POST', path, body: JSON.stringify(payload), requestId, operation: `auth.${kind}` })
    let text: string
    try {
      text = await res.body.text()
    } catch (err) {
      throw toDomainError(err)
    }
    if (res.statusCode === 400 || res.statusCode === 401 || res.statusCode === 403) {
      throw domainError('unauthorized', 'Evercycle refused the credentials', { details: { upstream_status: res.statusCode } })
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw domainError('upstream_error', `Evercycle answered ${res.statusCode} to ${path}`, {
        statusCode: res.statusCode >= 400 ? res.statusCode : 502,
        details: { upstream_status: res.statusCode }
      })
    }
    const result = parseAuthResult(text)
    if (result === undefined) {
      throw domainError('upstream_invalid_response', `Evercycle answered ${path} without an AuthenticationResult`)
    }
    return result
  }
}

function parseAuthResult(text: string): AuthenticationResult | undefined {
  try {
    const parsed: unknown = JSON.parse(text)
    const result = (parsed as { AuthenticationResult?: unknown } | null)?.AuthenticationResult
    if (typeof result !== 'object' || result === null) return undefined
    const r = result as Record<string, unknown>
    if (typeof r.AccessToken !== 'string' || typeof r.IdToken !== 'string') return undefined
    return {
      AccessToken: r.AccessToken,
      IdToken: r.IdToken,
      RefreshToken: typeof r.RefreshToken === 'string' ? r.RefreshToken : undefined,
      ExpiresIn: typeof r.ExpiresIn === 'number' ? r.ExpiresIn : undefined,
      TokenType: typeof r.TokenType === 'string' ? r.TokenType : undefined
    }
  } catch {
    return undefined
  }
}

export function queryString(query: UpstreamRequest['query']): string {
  if (query === undefined) return ''
  const entries = Object.entries(query)
  // most calls forward no query: skip building URLSearchParams for nothing
  if (entries.length === 0) return ''
  const params = new URLSearchParams()
  for (const [key, value] of entries) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v))
  }
  const qs = params.toString()
  return qs === '' ? '' : `?${qs}`
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function isReset(err: unknown): boolean {
  const code = errorCode(err)
  const causeCode = errorCode((err as { cause?: unknown } | null)?.cause)
  return (code !== undefined && RESET_CODES.has(code)) || (causeCode !== undefined && RESET_CODES.has(causeCode))
}

/** A coarse, documented reason instead of the raw errno and address. */
function networkReason(err: unknown): string {
  const code = errorCode(err) ?? errorCode((err as { cause?: unknown } | null)?.cause)
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection_refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns_failure'
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_timeout'
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'connection_reset'
    default:
      return 'network_error'
  }
}

/**
 * Transport failures become domain errors; the message names the failure class, never a token or URL query.
 * Before the headers or while reading a body alike: a stall past the timeout is a 504, a dropped connection a
 * 502. A domain error passes through as it is.
 */
export function toDomainError(err: unknown): DomainError {
  if (isDomainError(err)) return err
  const code = errorCode(err)
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return domainError('upstream_timeout', 'Evercycle did not answer in time', { cause: err })
  }
  if ((err as Error | null)?.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return domainError('upstream_unavailable', 'The upstream request was aborted', { cause: err })
  }
  return domainError('upstream_unavailable', 'Evercycle is unreachable', { details: { reason: networkReason(err) }, cause: err })
}
