import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** The request headers a webhook's flow sees in `input.headers`: none that authenticate or carry a session. */
export const HOOK_HEADERS: readonly string[] = [
  'content-type',
  'user-agent',
  'x-request-id',
  'x-correlation-id',
  'x-event-type',
  'x-webhook-id',
  'x-github-event',
  'x-github-delivery',
  'x-gitlab-event',
  'x-hook-id',
  'idempotency-key'
]

export const SIGNATURE_HEADER = 'x-flowrunner-signature'

/** The allow-listed headers, each once (the first value of a repeated one). */
export function hookHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of HOOK_HEADERS) {
    const value = headers[name]
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) out[name] = first
  }
  return out
}

/** `sha256=<hex>` of the raw body under `secret`: what a sender puts in X-FlowRunner-Signature. */
export function signBody(secret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`
}

/** Whether `header` is the body's signature under `secret`, compared in constant time. */
export function verifySignature(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim())
  if (match === null) return false
  const expected = createHmac('sha256', secret).update(rawBody).digest()
  return timingSafeEqual(expected, Buffer.from((match[1] as string).toLowerCase(), 'hex'))
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are one request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** What an Idempotency-Key is bound to: a hash of the request's meaningful content. */
export function requestHash(content: unknown): string {
  return createHash('sha256').update(canonical(content)).digest('hex')
}

/** Idempotency keys: printable ASCII, 1 to 255 characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/
