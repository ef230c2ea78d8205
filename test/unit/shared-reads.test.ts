import { EventEmitter } from 'node:events'
import tap from 'tap'
import type { Operation } from '../../src/evercycle/operation.js'
import { replay, SharedReads, type ReadRequest } from '../../src/evercycle/upstream/shared-reads.js'

class ConnectionSignal extends EventEmitter {
  aborted = false
}

const op = { name: 'get-all', method: 'GET', invalidates: [] } as unknown as Operation

function request(signal: ConnectionSignal, answer: string): ReadRequest {
  return {
    op,
    identity: 'service',
    params: { path: '/v1/asset', query: {} },
    lane: 'interactive',
    signal,
    bypassCache: false,
    fetch: async () => replay({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(answer) }, undefined)
  }
}

tap.test("a keep-alive connection's signal keeps no listener once each read is over", async (t) => {
  const reads = new SharedReads({ maxEntries: 10, maxBytes: 10_000, log: { warn: () => undefined } })
  const connection = new ConnectionSignal()
  for (let i = 0; i < 50; i++) {
    const { response } = await reads.read(request(connection, `[${i}]`))
    t.equal(await response.body.text(), `[${i}]`)
  }
  t.equal(connection.listenerCount('abort'), 0)
  // a failed read too
  await t.rejects(reads.read({ ...request(connection, '[]'), fetch: async () => Promise.reject(new Error('down')) }), /down/)
  t.equal(connection.listenerCount('abort'), 0)
})

tap.test('a replayed answer reads the same for every caller, in every way the readers read it', async (t) => {
  const answer = { statusCode: 200, headers: { 'content-length': '7' }, body: Buffer.from('{"a":1}') }
  const first = replay(answer, 'HIT')
  const second = replay(answer, undefined)
  t.equal(first.headers['x-cache'], 'HIT')
  t.equal(second.headers['x-cache'], undefined)
  t.same(await first.body.json(), { a: 1 })
  t.equal(Buffer.from(await second.body.bytes()).toString(), '{"a":1}')
  const chunks: Buffer[] = []
  for await (const chunk of replay(answer, undefined).body as AsyncIterable<Buffer>) chunks.push(chunk)
  t.equal(Buffer.concat(chunks).toString(), '{"a":1}')
})
