import { createHmac, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { listenOrExit, portFrom } from './ports.js'

/**
 * The demo's webhook receiver: what a customer's endpoint would be. It checks `X-FlowRunner-Signature`
 * (`sha256=<hex HMAC of the raw body>`) against the shared secret when it has one and answers 401 on a
 * mismatch, so a flow with a wrong secret fails visibly instead of "delivering". The bench runs it as a child
 * process, the demo in its own process beside the gateway.
 *   node dist/dev/demo/webhook-receiver.js --port 5055 [--secret S] [--quiet]
 */

export const SIGNATURE_HEADER = 'x-flowrunner-signature'
/** GET here answers the counts instead of recording a delivery: the bench checks every execution delivered. */
export const COUNTS_PATH = '/__receiver/counts'
/** Deliveries larger than this are refused: the receiver buffers a body to hash it. */
const MAX_BODY_BYTES = 1024 * 1024

export type SignatureCheck = 'valid' | 'invalid' | 'missing' | 'unchecked'

export interface Delivery {
  method: string
  path: string
  signature: SignatureCheck
  bytes: number
  body: string
}

export interface ReceiverOptions {
  port: number
  host?: string
  /** The shared secret; without one, signatures are not checked ('unchecked'). */
  secret?: string | undefined
  /** Called for each delivery (the demo prints it); not called for refused oversize bodies. */
  onDelivery?: (delivery: Delivery) => void
}

export interface WebhookReceiver {
  url: string
  port: number
  /** Deliveries accepted (2xx) and refused for their signature, since start. */
  counts: { accepted: number; rejected: number }
  close(): Promise<void>
}

export function checkSignature(secret: string | undefined, header: string | undefined, body: Buffer): SignatureCheck {
  if (secret === undefined) return 'unchecked'
  if (header === undefined) return 'missing'
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
  const given = Buffer.from(header)
  // timingSafeEqual throws on different lengths, and a length mismatch is a mismatch anyway
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid'
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

function answer(res: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export async function startWebhookReceiver(options: ReceiverOptions): Promise<WebhookReceiver> {
  const counts = { accepted: 0, rejected: 0 }
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === COUNTS_PATH) {
        answer(res, 200, counts)
        return
      }
      const body = await readBody(req)
      if (body === undefined) {
        answer(res, 413, { error: 'body too large' })
        req.destroy()
        return
      }
      const header = req.headers[SIGNATURE_HEADER]
      const signature = checkSignature(options.secret, typeof header === 'string' ? header : undefined, body)
      options.onDelivery?.({ method: req.method ?? 'GET', path: req.url ?? '/', signature, bytes: body.length, body: body.toString('utf8') })
      if (signature === 'invalid' || signature === 'missing') {
        counts.rejected++
        answer(res, 401, { error: `signature ${signature}` })
        return
      }
      counts.accepted++
      answer(res, 200, { received: true, signature })
    })().catch(() => res.destroy())
  })
  // a receiver that keeps connections open lets the engine's undici pool reuse them, as a real endpoint would
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    port: address.port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** One line per delivery, shortened: enough to see what arrived and whether it was genuine. */
export function describeDelivery(d: Delivery, maxChars = 300): string {
  const mark = { valid: 'signature ok', invalid: 'BAD SIGNATURE (401)', missing: 'NO SIGNATURE (401)', unchecked: 'unsigned, not checked' }[d.signature]
  const body = d.body.length > maxChars ? `${d.body.slice(0, maxChars)}… (${d.bytes} bytes)` : d.body
  return `[webhook receiver] ${d.method} ${d.path}  ${mark}\n  ${body}`
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.RECEIVER_PORT ?? '5055' },
      host: { type: 'string', default: '127.0.0.1' },
      secret: { type: 'string', default: process.env.WEBHOOK_SECRET },
      quiet: { type: 'boolean', default: false }
    }
  })
  const port = portFrom(values.port, 5055, 'RECEIVER_PORT / --port')
  const receiver = await listenOrExit({ what: 'the webhook receiver', port, variable: 'RECEIVER_PORT', option: '--port' }, () =>
    startWebhookReceiver({
      port,
      host: values.host,
      secret: values.secret,
      ...(values.quiet === true ? {} : { onDelivery: (d: Delivery) => process.stderr.write(`${describeDelivery(d)}\n`) })
    })
  )
  // the announcement line a parent process (the bench) waits for, as the simulator prints its own
  process.stdout.write(`${JSON.stringify({ receiver: receiver.url })}\n`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void receiver.close().then(() => process.exit(0))
    })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
