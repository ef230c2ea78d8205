import type { Agent, Dispatcher } from 'undici'
import { readWhole } from '../../util/read-capped.js'

export interface HttpCall {
  url: string
  method: string
  headers?: Record<string, string>
  query?: Record<string, unknown>
  body?: unknown
  signal: AbortSignal
  timeoutMs: number
  maxBytes: number
  /**
   * Whether a header value holds one of the flow's secrets (in any form the masker knows): such a header is
   * not carried to another origin on a redirect, whatever its name.
   */
  carriesSecret?: (text: string) => boolean
}

export interface HttpResult {
  status_code: number
  headers: Record<string, string>
  body: unknown
  url: string
}

/** A failure of the call itself (not an HTTP status): network, timeout, refusal, oversized body. */
export class HttpCallError extends Error {
  override name = 'HttpCallError'
  constructor(
    message: string,
    readonly retryable: boolean
  ) {
    super(message)
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5
/** Credentials by name, dropped on a cross-origin redirect even when no stored secret is in them. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'x-api-key'])

function withQuery(url: string, query: Record<string, unknown> | undefined): URL {
  const u = new URL(url)
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HttpCallError(`Unsupported URL scheme ${u.protocol}`, false)
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue
    for (const v of Array.isArray(value) ? value : [value]) u.searchParams.append(key, typeof v === 'string' ? v : JSON.stringify(v))
  }
  return u
}

/** Reads a response body, giving up (and dropping the connection) past `maxBytes`: nothing huge is buffered. */
export function readBody(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer> {
  return readWhole(body, maxBytes, () => new HttpCallError(`Response body exceeds ${maxBytes} bytes`, false))
}

function flatHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}

function describe(err: unknown, signal: AbortSignal, timeout: AbortSignal, timeoutMs: number): HttpCallError {
  if (signal.aborted) return new HttpCallError('Request aborted', false)
  if (timeout.aborted) return new HttpCallError(`HTTP request timed out after ${timeoutMs} ms`, true)
  const e = err as { name?: string; message?: string; code?: string }
  if (e.name === 'BlockedAddressError') return new HttpCallError(e.message ?? 'Blocked address', false)
  if (err instanceof HttpCallError) return err
  return new HttpCallError(`Request failed: ${e.code ?? e.message ?? 'network error'}`, true)
}

/**
 * One HTTP call through the guarded agent: redirects followed by hand (at most 5, each through the same
 * connect-time address check), a deadline, the caller's abort signal, and a capped response body.
 */
export async function httpCall(agent: Agent, call: HttpCall): Promise<HttpResult> {
  const timeout = AbortSignal.timeout(call.timeoutMs)
  const signal = AbortSignal.any([call.signal, timeout])
  let url = withQuery(call.url, call.query)
  let method = call.method.toUpperCase()
  const headers: Record<string, string> = { ...call.headers }
  let body: string | undefined
  if (call.body !== undefined && call.body !== null && method !== 'GET' && method !== 'HEAD') {
    if (typeof call.body === 'string') body = call.body
    else {
      body = JSON.stringify(call.body)
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
    }
  }
  try {
    for (let hop = 0; ; hop++) {
      const res = await agent.request({ origin: url.origin, path: url.pathname + url.search, method: method as Dispatcher.HttpMethod, headers, body: body ?? null, signal })
      const location = res.headers.location
      if (REDIRECTS.has(res.statusCode) && typeof location === 'string') {
        await res.body.dump()
        if (hop >= MAX_REDIRECTS) throw new HttpCallError(`More than ${MAX_REDIRECTS} redirects`, false)
        const next = new URL(location, url)
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpCallError('Redirect to an unsupported scheme', false)
        if (next.origin !== url.origin) {
          // credentials are not carried to another origin: the usual ones by name, any other by its content
          for (const [h, v] of Object.entries(headers)) {
            if (CREDENTIAL_HEADERS.has(h.toLowerCase()) || call.carriesSecret?.(h) === true || call.carriesSecret?.(v) === true) delete headers[h]
          }
        }
        if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
          method = 'GET'
          body = undefined
        }
        url = next
        continue
      }
      const raw = await readBody(res.body, call.maxBytes)
      const responseHeaders = flatHeaders(res.headers)
      const text = raw.toString('utf8')
      let parsed: unknown = text
      if (/json/i.test(responseHeaders['content-type'] ?? '') && text.trim() !== '') {
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = text
        }
      }
      return { status_code: res.statusCode, headers: responseHeaders, body: parsed, url: url.href }
    }
  } catch (err) {
    throw describe(err, call.signal, timeout, call.timeoutMs)
  }
}
