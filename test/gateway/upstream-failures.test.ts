import { request } from 'undici'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import type { SimulatorSettings } from '../../dev/simulator/simulator.js'
import { buildGateway, LogCapture, startSimulator } from '../helpers/gateway.js'

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

/** `GET /api/get-all` once with the simulator answering normally (which signs in), then once in `mode`. */
async function afterSignIn(t: Tap, mode: SimulatorSettings['bodyMode']): Promise<{ first: LightMyRequestResponse; res: LightMyRequestResponse }> {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const first = await app.inject({ method: 'GET', url: '/api/get-all' })
  sim.settings.bodyMode = mode
  return { first, res: await app.inject({ method: 'GET', url: '/api/get-all' }) }
}

t.test('an upstream that does not answer in time gives 504', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { UPSTREAM_TIMEOUT_MS: '200' } })
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  sim.settings.latencyMs = 2000
  const res = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(res.statusCode, 504)
  t.equal(res.json().error.code, 'upstream_timeout')
})

t.test('an upstream that stalls after its headers gives 504, one that drops mid-body 502', async (t) => {
  const sim = await startSimulator(t)
  const logs = new LogCapture()
  const { app } = await buildGateway(t, { sim, logs, env: { UPSTREAM_TIMEOUT_MS: '300' } })
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  sim.settings.bodyMode = 'stall'
  const stalled = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(stalled.statusCode, 504)
  t.equal(stalled.json().error.code, 'upstream_timeout')
  sim.settings.bodyMode = 'truncated'
  const dropped = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(dropped.statusCode, 502)
  t.equal(dropped.json().error.code, 'upstream_unavailable')
  t.notOk(logs.lines.some((l) => l.includes('"level":50')), 'upstream trouble, not an internal error: nothing logged at error level')
  sim.settings.bodyMode = 'normal'
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200, 'the next call is fine')
})

t.test('an unreachable upstream gives 502', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  await sim.down()
  const res = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(res.statusCode, 502)
  t.equal(res.json().error.code, 'upstream_unavailable')
  t.notMatch(res.body, /127\.0\.0\.1|ECONNREFUSED|stack/, 'no internals leak')
  await sim.up()
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200, 'recovers when upstream returns')
})

t.test('upstream 5xx passes through as upstream_error', async (t) => {
  const { res } = await afterSignIn(t, 'error')
  t.equal(res.statusCode, 500)
  t.same(res.json().error, { code: 'upstream_error', message: 'Evercycle answered 500', details: { upstream_status: 500, body: { message: 'Internal server error' } } })
})

t.test('malformed upstream JSON is a 502, never invalid JSON to the client', async (t) => {
  const { res } = await afterSignIn(t, 'malformed')
  t.equal(res.statusCode, 502)
  t.equal(res.json().error.code, 'upstream_invalid_response')
})

t.test('a non-JSON upstream body is wrapped as a JSON string', async (t) => {
  const { res } = await afterSignIn(t, 'html')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'success', data: '<html><body>Maintenance</body></html>' })
})

t.test('valid JSON under a non-JSON Content-Type is still JSON, as the old gateway read it', async (t) => {
  const { first: labelled, res } = await afterSignIn(t, 'mislabeled')
  t.equal(res.statusCode, 200)
  t.same(res.json(), labelled.json(), 'the same envelope as for application/json')
  t.equal(typeof res.json().data, 'object')
})

t.test('a large upstream body streams through the envelope as valid JSON', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const res = await request(`${address}/api/get-all?bulk=20000`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-length'], undefined, 'streamed, not buffered')
  const text = await res.body.text()
  t.ok(text.length > 8_000_000)
  const parsed = JSON.parse(text)
  t.equal(parsed.status, 'success')
  t.equal(parsed.data.total, 20000)
  t.equal(parsed.data.assets.length, 20000)
})
