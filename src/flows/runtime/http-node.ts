import { createHmac } from 'node:crypto'
import { httpCall, HttpCallError, type HttpCall } from './http-call.js'
import { isRetryableStatus, NodeFailure, type NodeOutcome, type RunContext } from './node-runtime.js'
import { SecretMasker } from './secret-masker.js'

export interface HttpNodeParams extends Pick<HttpCall, 'url' | 'method' | 'headers' | 'query' | 'body'> {
  /** Signs the exact body bytes with HMAC-SHA256 (webhooks). */
  signingSecret?: string
  /** The request's own bound (http.request `timeout`), within the node's. */
  timeoutMs?: number
}

/** Shared by http.request and webhook: one guarded call; status >= 400 fails the node. */
export async function runHttpNode(p: HttpNodeParams, ctx: RunContext): Promise<NodeOutcome> {
  const headers: Record<string, string> = { 'user-agent': 'FlowRunner/1', ...p.headers }
  let body = p.body
  if (p.signingSecret !== undefined) {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
    if (typeof body !== 'string' && body !== undefined) headers['content-type'] ??= 'application/json'
    headers['x-flowrunner-signature'] = `sha256=${createHmac('sha256', p.signingSecret).update(text).digest('hex')}`
    body = text
  }
  // the secrets this node's params could hold, in every form the engine masks them in
  const secrets = SecretMasker.of(Object.values(ctx.scope.secrets))
  let result
  try {
    result = await httpCall(ctx.http, {
      url: p.url,
      method: p.method,
      headers,
      query: p.query,
      body,
      signal: ctx.signal,
      timeoutMs: Math.min(ctx.timeoutMs, p.timeoutMs ?? ctx.timeoutMs),
      maxBytes: ctx.maxResponseBytes,
      carriesSecret: (text) => secrets.contains(text)
    })
  } catch (err) {
    if (err instanceof HttpCallError) throw new NodeFailure(err.message, err.retryable, { url: p.url })
    throw err
  }
  const logData = { status_code: result.status_code, url: result.url }
  if (result.status_code >= 400) {
    throw new NodeFailure(`HTTP request failed with status ${result.status_code}`, isRetryableStatus(result.status_code), logData)
  }
  return { result: { status_code: result.status_code, headers: result.headers, body: result.body }, logData }
}

export function asStringRecord(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw new NodeFailure(`${field} must be an object`, false)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) out[k] = typeof v === 'string' ? v : JSON.stringify(v)
  return out
}

export function asRecord(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw new NodeFailure(`${field} must be an object`, false)
  return value as Record<string, unknown>
}

export function asString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new NodeFailure(`${field} must be a non-empty string`, false)
  return value
}
