import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { buildGateway, startSimulator, tempDir, type Teardown } from '../helpers/gateway.js'
import { BEARER, METRICS_TOKEN, sample } from '../ops/metrics-text.js'

const get = (app: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'GET', url, headers })

/** A gateway whose `config/<name>.json` files are `configs` (e.g. a `cache` for get-all). */
async function withConfigs(t: Teardown, configs: Record<string, unknown>, env: Record<string, string> = {}) {
  const sim = await startSimulator(t, { latencyMs: 50 })
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'config'), { recursive: true })
  for (const [name, value] of Object.entries(configs)) await writeFile(path.join(dir, 'config', `${name}.json`), JSON.stringify(value))
  const gw = await buildGateway(t, { sim, dir, env })
  return { sim, app: gw.app }
}

t.test('200 concurrent identical GETs make one upstream call; all 200 callers get its answer', async (t) => {
  const { sim, app } = await withConfigs(t, {})
  t.equal((await get(app, '/api/get-all?status=active')).statusCode, 200)
  sim.reset()
  const replies = await Promise.all(Array.from({ length: 200 }, () => get(app, '/api/get-all?status=active')))
  t.same([...new Set(replies.map((r) => r.statusCode))], [200])
  t.equal(new Set(replies.map((r) => r.body)).size, 1, 'one answer')
  t.equal(sim.callsTo('GET', '/v1/asset').length, 1, 'one upstream call')
  t.equal(replies[0]?.headers['x-cache'], undefined, 'get-all is not cached: no x-cache')
  // different parameters do not share
  sim.reset()
  await Promise.all([get(app, '/api/get-all?status=active'), get(app, '/api/get-all?status=retired')])
  t.equal(sim.callsTo('GET', '/v1/asset').length, 2)
})

t.test('two identities never share a coalesced call or a cache entry', async (t) => {
  const sim = await startSimulator(t, { latencyMs: 100, users: { [DEMO_USERNAME]: 'demo-password', 'alice@example.com': 'alice-pw-1' } })
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'config'), { recursive: true })
  await writeFile(path.join(dir, 'config', 'get-all.json'), JSON.stringify({ cache: { ttl: '10s' } }))
  const { app } = await buildGateway(t, { sim, dir, env: { GATEWAY_AUTH: 'session', GATEWAY_API_KEYS: 'script-key-0123456789' } })
  const login = await app.inject({ method: 'POST', url: '/api/auth', payload: { username: 'alice@example.com', password: 'alice-pw-1' } })
  t.equal(login.statusCode, 200)
  const cookie = `evercycle_session=${login.cookies.find((c) => c.name === 'evercycle_session')?.value}`
  sim.reset()
  const [service, alice] = await Promise.all([get(app, '/api/get-all', { 'x-api-key': 'script-key-0123456789' }), get(app, '/api/get-all', { cookie })])
  t.equal(service?.statusCode, 200)
  t.equal(alice?.statusCode, 200)
  t.same(sim.callsTo('GET', '/v1/asset').map((c) => c.user).sort(), ['alice@example.com', DEMO_USERNAME], "each identity's own call, with its own tokens")
  t.equal((await get(app, '/api/get-all', { cookie })).headers['x-cache'], 'HIT', "alice's cached answer for alice")
  t.equal((await get(app, '/api/get-all', { 'x-api-key': 'script-key-0123456789' })).headers['x-cache'], 'HIT')
  t.equal(sim.callsTo('GET', '/v1/asset').length, 2)
})

t.test('a cached operation: MISS then HIT, parameter order ignored, no-cache bypasses, a write invalidates', async (t) => {
  const { sim, app } = await withConfigs(t, { 'get-all': { cache: { ttl: '30s' } } })
  const first = await get(app, '/api/get-all?status=active&limit=5')
  t.equal(first.headers['x-cache'], 'MISS')
  const again = await get(app, '/api/get-all?limit=5&status=active')
  t.equal(again.headers['x-cache'], 'HIT', 'the same parameters in another order')
  t.equal(again.body, first.body)
  t.equal(sim.callsTo('GET', '/v1/asset').length, 1)
  const fresh = await get(app, '/api/get-all?status=active&limit=5', { 'cache-control': 'no-cache' })
  t.equal(fresh.headers['x-cache'], 'MISS', 'Cache-Control: no-cache goes to Evercycle')
  t.equal(sim.callsTo('GET', '/v1/asset').length, 2)

  const created = await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'Cached Laptop', status: 'active' } })
  t.ok(created.statusCode >= 200 && created.statusCode < 300, created.body)
  const afterWrite = await get(app, '/api/get-all?status=active&limit=5')
  t.equal(afterWrite.headers['x-cache'], 'MISS', 'create invalidates get-all')
  t.match(afterWrite.body, 'Cached Laptop')
  // a failed write invalidates nothing
  const bad = await app.inject({ method: 'PUT', url: '/api/edit-asset-id', payload: { id: 'no-such-asset', name: 'x' } })
  t.not(bad.statusCode, 200)
  t.equal((await get(app, '/api/get-all?status=active&limit=5')).headers['x-cache'], 'HIT')
})

t.test('stale while revalidate: a stale entry is served while one background refresh runs', async (t) => {
  const { sim, app } = await withConfigs(t, { 'get-all': { cache: { ttl: '150ms', stale_while_revalidate: '30s' } } })
  t.equal((await get(app, '/api/get-all')).headers['x-cache'], 'MISS')
  await pause(200)
  sim.reset()
  const stale = await Promise.all(Array.from({ length: 5 }, () => get(app, '/api/get-all')))
  t.same(stale.map((r) => r.headers['x-cache']), ['STALE', 'STALE', 'STALE', 'STALE', 'STALE'], 'served at once')
  for (let i = 0; i < 200 && (await get(app, '/api/get-all')).headers['x-cache'] !== 'HIT'; i++) await pause(10)
  t.equal(sim.callsTo('GET', '/v1/asset').length, 1, 'one background refresh')
})

t.test('a cache on a write, a bad duration or an unknown invalidation target is refused at boot', async (t) => {
  for (const [configs, reason] of [
    [{ create: { cache: { ttl: '5s' } } }, /GET operations only/],
    [{ 'get-all': { cache: { ttl: 'soon' } } }, /cache/],
    [{ create: { invalidates: ['get-everything'] } }, /not an operation/]
  ] as const) {
    await t.rejects(withConfigs(t, configs), reason)
  }
})

t.test('the metrics: coalesced calls, cache results and size, breaker state, 429s, refusals, budget queue', async (t) => {
  const { sim, app } = await withConfigs(t, { 'get-all': { cache: { ttl: '30s' } } }, { METRICS_TOKEN })
  await Promise.all(Array.from({ length: 5 }, () => get(app, '/api/get-asset-id?id=1')))
  await get(app, '/api/get-all')
  await get(app, '/api/get-all')
  sim.answer429Next(1, '1')
  t.equal((await get(app, '/api/get-asset-id?id=2')).statusCode, 429)
  t.equal((await get(app, '/api/get-asset-id?id=3')).statusCode, 429, 'refused during the pause')
  const text = (await app.inject({ method: 'GET', url: '/metrics', headers: BEARER })).body
  t.equal(sample(text, 'evercycle_upstream_coalesced_total', { kind: 'get' }), 4)
  t.equal(sample(text, 'evercycle_upstream_cache_total', { result: 'miss' }), 1)
  t.equal(sample(text, 'evercycle_upstream_cache_total', { result: 'hit' }), 1)
  t.equal(sample(text, 'evercycle_upstream_cache_size', { measure: 'entries' }), 1)
  t.ok((sample(text, 'evercycle_upstream_cache_size', { measure: 'bytes' }) ?? 0) > 0)
  t.equal(sample(text, 'evercycle_upstream_rate_limited_total', { source: 'evercycle' }), 1)
  t.equal(sample(text, 'evercycle_upstream_refused_total', { reason: 'rate_limited' }), 1)
  t.equal(sample(text, 'evercycle_upstream_breaker_state'), 0)
  t.equal(sample(text, 'evercycle_upstream_budget_queue', { lane: 'interactive' }), 0)
  t.equal(sample(text, 'evercycle_upstream_in_flight'), 0)
  t.type(sample(text, 'evercycle_upstream_budget_wait_seconds_total', { lane: 'interactive' }), 'number')
})
