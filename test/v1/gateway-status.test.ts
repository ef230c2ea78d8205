import type { LightMyRequestResponse } from 'fastify'
import tap from 'tap'
import { DEMO_PASSWORD } from '../../dev/simulator/simulator.js'
import { ADMIN_PASSWORD, buildFlowRunner, eachBackend, JWT_SECRET, SECRETS_KEY, type FlowRunner } from '../helpers/flowrunner.js'
import { buildGateway, LogCapture, startSimulator } from '../helpers/gateway.js'

const STATUS = '/api/v1/gateway/status'

async function status(fr: FlowRunner, token = fr.admin.token): Promise<LightMyRequestResponse> {
  return fr.request('GET', STATUS, { token })
}

/** Every string no reply or log line may hold: the tokens Evercycle issued, and every password and key. */
function secretsOf(fr: FlowRunner, issued: readonly string[]): string[] {
  return [...issued, DEMO_PASSWORD, ADMIN_PASSWORD, JWT_SECRET, SECRETS_KEY, fr.admin.token]
}

eachBackend('gateway status: the service token after a gateway call, and never a token or password', async (t, backend) => {
  const sim = await startSimulator(t)
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, sim, logs })

  const before = (await status(fr)).json()
  t.match(before.token, { signed_in: false, expires_at: null, last_refresh_at: null, next_refresh_at: null, renewing: false })
  t.same(before.recent_errors, [])
  t.equal(before.upstream.last_success_at, null)

  const started = Date.now()
  t.equal((await fr.request('GET', '/api/get-all')).statusCode, 200)
  const res = await status(fr)
  t.equal(res.statusCode, 200)
  const body = res.json()
  const now = Date.now()
  t.equal(body.token.signed_in, true)
  const expiresAt = Date.parse(body.token.expires_at)
  const nextRefresh = Date.parse(body.token.next_refresh_at)
  const lastRefresh = Date.parse(body.token.last_refresh_at)
  t.ok(expiresAt > now, 'expires in the future')
  t.ok(nextRefresh < expiresAt, 'refreshed before it expires')
  t.equal(expiresAt - nextRefresh, 60_000, 'by TOKEN_REFRESH_SKEW_SECONDS (60 s by default)')
  t.ok(lastRefresh >= started - 1000 && lastRefresh <= now, 'obtained by that call')
  t.equal(body.token.sign_ins, 1)
  t.equal(body.upstream.base_url, sim.url)
  t.ok(Date.parse(body.upstream.last_success_at) >= started - 1000)
  t.match(body.upstream.breaker, { state: 'closed', opened_at: null, next_probe_at: null, consecutive_failures: 0, failure_threshold: 5 })
  t.match(body.budget, { rate: null, in_flight: 0, queued: { interactive: 0, flow: 0 }, paused_until: null })

  const stored = await fr.app.tokens.peek()
  t.ok(stored, 'the gateway holds tokens')
  const secrets = [stored?.accessToken ?? '', stored?.idToken ?? '', stored?.refreshToken ?? '', ...secretsOf(fr, sim.issued)]
  t.ok(sim.issued.length >= 3)
  for (const secret of secrets) {
    t.notOk(res.body.includes(secret), 'no token, password or key in the reply')
    t.notOk(logs.text.includes(secret), 'nor in the logs')
  }

  const user = await fr.createUser()
  t.equal((await status(fr, user.token)).statusCode, 200, 'any role may look')
})

eachBackend('gateway status: failed upstream calls are listed, newest first, without values, bodies or tokens', async (t, backend) => {
  const sim = await startSimulator(t)
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, sim, logs, env: { UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_BREAKER_COOLDOWN_MS: '60000' } })
  t.equal((await fr.request('GET', '/api/get-all')).statusCode, 200)

  sim.settings.bodyMode = 'error'
  const failed = await fr.request('GET', '/api/get-asset-id?id=asset-value-7f3a', { headers: { 'x-request-id': 'status-test-1' } })
  t.equal(failed.statusCode, 500, 'passed through as upstream_error')
  let body = (await status(fr)).json()
  t.equal(body.recent_errors.length, 1)
  t.match(body.recent_errors[0], {
    operation: 'get-asset-id',
    method: 'GET',
    path: '/v1/asset/{id}',
    status: 500,
    code: null,
    reason: null,
    message: 'Evercycle answered 500',
    request_id: 'status-test-1'
  })
  t.ok(Date.parse(body.recent_errors[0].at) <= Date.now())
  t.equal(body.upstream.last_failure_at, body.recent_errors[0].at)
  t.equal(body.upstream.failures, 1)
  t.match(body.upstream.breaker, { state: 'closed', consecutive_failures: 1 })

  await sim.down()
  t.equal((await fr.request('GET', '/api/get-all?search=query-value-9c1e')).statusCode, 502)
  const res = await status(fr)
  body = res.json()
  t.equal(body.recent_errors.length, 2)
  t.match(body.recent_errors[0], { operation: 'get-all', status: null, code: 'upstream_unavailable', reason: 'connection_refused', message: 'Evercycle is unreachable' })
  t.equal(body.recent_errors[1].operation, 'get-asset-id', 'newest first')
  t.match(body.upstream.breaker, { state: 'open', consecutive_failures: 0 })
  const openedAt = Date.parse(body.upstream.breaker.opened_at)
  t.equal(Date.parse(body.upstream.breaker.next_probe_at) - openedAt, 60_000, 'the probe after the cooldown')
  t.equal((await fr.request('GET', '/api/get-all')).statusCode, 503, 'the open breaker refuses')
  const refused = (await status(fr)).json()
  t.equal(refused.budget.refused.circuit_open, 1)
  t.equal(refused.recent_errors.length, 2, 'a call the breaker refused never reached Evercycle: no upstream error')

  for (const value of ['asset-value-7f3a', 'query-value-9c1e', sim.url.replace('http://', '') + '/v1', 'ECONNREFUSED', ...secretsOf(fr, sim.issued)]) {
    t.notOk(res.body.includes(value), `the reply does not hold ${value.slice(0, 12)}…`)
  }
  for (const secret of secretsOf(fr, sim.issued)) t.notOk(logs.text.includes(secret), 'no secret in the logs')
})

eachBackend('gateway status: the budget as configured, a 429 pause and the sign-in back-off', async (t, backend) => {
  const sim = await startSimulator(t)
  const fr = await buildFlowRunner(t, { backend, sim, env: { UPSTREAM_RATE_LIMIT: '50', UPSTREAM_MAX_CONCURRENCY: '8' } })
  let body = (await status(fr)).json()
  t.same(body.budget.rate, { per_second: 50, burst: 50, flow_reserve: 5, shared: backend === 'postgres' })
  t.equal(body.budget.max_concurrency, 8)

  t.equal((await fr.request('GET', '/api/get-all')).statusCode, 200)
  sim.answer429Next(1, '30')
  t.equal((await fr.request('GET', '/api/get-all')).statusCode, 429)
  body = (await status(fr)).json()
  t.ok(Date.parse(body.budget.paused_until) > Date.now() + 20_000, 'paused for the Retry-After')
  t.equal(body.budget.rate_limited_by_upstream, 1)
  t.match(body.recent_errors[0], { operation: 'get-all', status: 429 })
})

eachBackend('gateway status: refused service credentials show as signed out, backing off', async (t, backend) => {
  const sim = await startSimulator(t)
  sim.settings.failSignIn = true
  const fr = await buildFlowRunner(t, { backend, sim })
  t.equal((await fr.request('GET', '/api/get-all')).statusCode, 401)
  const body = (await status(fr)).json()
  t.match(body.token, { signed_in: false, expires_at: null, renewal_failures: 1 })
  t.ok(Date.parse(body.token.sign_in_blocked_until) > Date.now())
  t.match(body.recent_errors[0], { operation: 'auth.signin', method: 'POST', path: '/v1/auth/signin', status: 401 })
})

eachBackend('gateway status: 401 without a token, in FlowRunner shape', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const res = await fr.request('GET', STATUS)
  t.equal(res.statusCode, 401)
  t.equal(res.json().error.code, 'unauthorized')
  t.equal((await fr.request('GET', STATUS, { token: 'not-a-jwt' })).statusCode, 401)
})

void tap.test('both console endpoints are in the OpenAPI document, with their schemas and the bearer JWT', async (t) => {
  const { app } = await buildGateway(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  const statusOp = doc.paths['/api/v1/gateway/status']?.get
  t.same(statusOp?.security, [{ flowrunnerJwt: [] }])
  t.match(Object.keys(statusOp?.responses['200'].content['application/json'].schema.properties ?? {}), ['checked_at', 'token', 'upstream', 'budget', 'recent_errors'])
  const validateOp = doc.paths['/api/v1/flows/validate']?.post
  t.same(validateOp?.security, [{ flowrunnerJwt: [] }])
  t.match(validateOp?.requestBody.content['application/json'].schema, { required: ['definition'], properties: { definition: { maxLength: 262_144 } } })
  t.same(Object.keys(validateOp?.responses ?? {}).sort(), ['200', '400', '401', '422', '429'])
})
