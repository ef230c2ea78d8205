import { Readable } from 'node:stream'
import type { UpstreamResponse } from '../evercycle/client.js'
import { BUFFER_LIMIT, type Envelope } from '../evercycle/envelope.js'

type Chunks = AsyncIterator<Buffer>

function chunksOf(res: UpstreamResponse): Chunks {
  // one iterator for the whole body: leaving a `for await` early would destroy the stream
  return (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
}

/**
 * A gateway's success reply is already the envelope: small ones are buffered (to pretty-print and keep in the
 * history), large ones stream through untouched.
 */
export async function envelopeFrom(res: UpstreamResponse): Promise<Envelope> {
  const it = chunksOf(res)
  const head: Buffer[] = []
  let size = 0
  for (;;) {
    const next = await it.next()
    if (next.done === true) {
      return { kind: 'buffered', statusCode: res.statusCode, payload: Buffer.concat(head, size) }
    }
    head.push(next.value)
    size += next.value.length
    if (size > BUFFER_LIMIT) break
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* head
    for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value
  }
  return { kind: 'stream', statusCode: res.statusCode, stream: Readable.from(rest(), { objectMode: false }) }
}

/** Up to `limit` bytes of a body as text; the rest is discarded. */
export async function readText(res: UpstreamResponse, limit = 64 * 1024): Promise<string> {
  const it = chunksOf(res)
  const chunks: Buffer[] = []
  let size = 0
  for (let next = await it.next(); next.done !== true; next = await it.next()) {
    chunks.push(next.value)
    size += next.value.length
    if (size > limit) {
      res.body.destroy()
      break
    }
  }
  return Buffer.concat(chunks, size).toString('utf8').slice(0, limit)
}
