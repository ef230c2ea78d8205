import { readFile, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { formatAuthProperties } from '../../src/evercycle/auth-properties.js'
import { tokenSetFrom } from '../../src/evercycle/tokens.js'
import type { EvercycleSimulator } from '../../dev/simulator/simulator.js'
import { buildGateway, REFRESH_FAILURES, startSimulator, tempDir, type Gateway, type Teardown } from '../helpers/gateway.js'

/** Writes an auth.properties holding real simulator tokens that the gateway will find already expired. */
async function expiredTokenFile(sim: EvercycleSimulator, dir: string): Promise<void> {
  const tokens = tokenSetFrom(sim.issueTokens(), undefined, Date.now() - 7200_000)
  sim.expireTokens()
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'auth.properties'), formatAuthProperties(tokens), { mode: 0o600 })
}

/** A gateway whose stored tokens have expired, beside a simulator whose counters start from zero. */
async function gatewayAtExpiry(t: Teardown): Promise<{ sim: EvercycleSimulator; app: Gateway['app'] }> {
  const sim = await startSimulator(t)
  const dir = await tempDir(t)
  await expiredTokenFile(sim, dir)
  const { app } = await buildGateway(t, { sim, dir })
  sim.reset()
  return { sim, app }
}

t.test('200 concurrent calls at expiry cause exactly one upstream refresh', async (t) => {
  const { sim, app } = await gatewayAtExpiry(t)
  // distinct queries: identical ones would share one upstream call (coalescing), and this is about tokens
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => app.inject({ method: 'GET', url: `/api/get-all?n=${i}` })))
  t.same(new Set(replies.map((r) => r.statusCode)), new Set([200]))
  t.equal(sim.counts.refreshes, 1, 'one refresh')
  t.equal(sim.counts.signIns, 0, 'no sign-in')
  t.equal(sim.counts.unauthorized, 0, 'no call went out with the expired token')
  t.equal(sim.callsTo('GET', '/v1/asset').length, 200)
})

for (const [mode, what] of REFRESH_FAILURES) {
  t.test(`a refresh that fails (${what}) falls back to signing in with the service credentials`, async (t) => {
    const { sim, app } = await gatewayAtExpiry(t)
    if (mode === 'refused') sim.settings.failRefresh = true
    else sim.settings.refreshMode = mode
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => app.inject({ method: 'GET', url: `/api/get-all?n=${i}` })))
    t.same(new Set(replies.map((r) => r.statusCode)), new Set([200]))
    t.equal(sim.counts.failedRefreshes, 1, 'one refresh attempt')
    t.equal(sim.counts.signIns, 1, 'then one sign-in')
    t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200, 'and the new tokens stay')
    t.equal(sim.counts.failedRefreshes + sim.counts.signIns, 2, 'nothing more reached the auth endpoints')
  })
}

t.test('a renewal a request causes carries that request id upstream', async (t) => {
  const { sim, app } = await gatewayAtExpiry(t)
  sim.settings.failRefresh = true
  const res = await app.inject({ method: 'GET', url: '/api/get-all', headers: { 'x-request-id': 'renewal-trace-1' } })
  t.equal(res.statusCode, 200)
  t.same(
    sim.calls.map((c) => [c.path, c.requestId]),
    [
      ['/v1/auth/refresh', 'renewal-trace-1'],
      ['/v1/auth/signin', 'renewal-trace-1'],
      ['/v1/asset', 'renewal-trace-1']
    ]
  )
})

t.test('refresh and sign-in both failing give 401, then fail fast without hammering upstream', async (t) => {
  const sim = await startSimulator(t)
  const dir = await tempDir(t)
  await expiredTokenFile(sim, dir)
  const { app } = await buildGateway(t, { sim, dir, env: { SIGNIN_BACKOFF_MS: '60000' } })
  sim.reset()
  sim.settings.failRefresh = true
  sim.settings.failSignIn = true
  const first = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(first.statusCode, 401)
  t.equal(first.json().error.code, 'unauthorized')
  t.equal(first.json().status, 'error')
  t.equal(sim.counts.failedSignIns, 1)

  const again = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'GET', url: '/api/get-all' })))
  for (const res of again) {
    t.equal(res.statusCode, 401)
    t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After tells when the gateway will try again')
  }
  t.equal(sim.counts.failedSignIns, 1, 'no further sign-in attempts during the back-off')
  t.equal(sim.callsTo('GET', '/v1/asset').length, 0)
})

t.test('without credentials or tokens, calls answer 401 and nothing reaches upstream', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, credentials: false })
  const res = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(res.statusCode, 401)
  t.match(res.json().message, /POST \/api\/auth/)
  t.equal(sim.calls.length, 0)
})

t.test('an upstream 401 drops the token, renews once and retries the call once', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  sim.reset()
  sim.revokeAccessTokens()
  const replies = await Promise.all(
    Array.from({ length: 50 }, (_, i) => app.inject({ method: 'POST', url: '/api/create', payload: { name: `asset ${i}` } }))
  )
  t.same(new Set(replies.map((r) => r.statusCode)), new Set([201]))
  t.equal(sim.counts.refreshes, 1, 'all 50 refusals shared one refresh')
  t.equal(sim.counts.unauthorized, 50, 'each call was refused once')
  t.equal(sim.callsTo('POST', '/v1/asset/create').filter((c) => c.authenticated).length, 50, 'each call retried once')
})

t.test('a restart reuses auth.properties instead of signing in again', async (t) => {
  const sim = await startSimulator(t)
  const dir = await tempDir(t)
  const first = await buildGateway(t, { sim, dir })
  t.equal((await first.app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  t.equal(sim.counts.signIns, 1)
  const before = await readFile(first.tokenFile, 'utf8')
  await first.app.close()

  const second = await buildGateway(t, { sim, dir })
  t.equal((await second.app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  t.equal(sim.counts.signIns, 1, 'no second sign-in')
  t.equal(sim.counts.refreshes, 0)
  t.equal(await readFile(second.tokenFile, 'utf8'), before)
})

t.test('GET /api/ready is 503 until the service identity can get a token', async (t) => {
  const sim = await startSimulator(t)
  const noCreds = await buildGateway(t, { sim, credentials: false })
  const down = await noCreds.app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(down.statusCode, 503)
  t.equal(down.json().status, 'unavailable')

  const { app } = await buildGateway(t, { sim })
  const up = await app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(up.statusCode, 200)
  t.equal(up.json().status, 'ready')
  t.equal(sim.counts.signIns, 1)
  await app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(sim.counts.signIns, 1, 'a usable token answers without upstream calls')
})

t.test('tokens too short-lived for the 60 s margin still get reused', async (t) => {
  const sim = await startSimulator(t, { tokenTtlMs: 30_000 })
  const { app } = await buildGateway(t, { sim })
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  t.equal(sim.counts.signIns, 1)
  t.equal(sim.counts.refreshes, 0)
})
