import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { buildGateway, LogCapture, startSimulator, tempDir } from '../helpers/gateway.js'

const USERS = { [DEMO_USERNAME]: DEMO_PASSWORD, 'alice@example.com': 'alice-pw-1', 'bob@example.com': 'bob-pw-1' }
const SESSION = { GATEWAY_AUTH: 'session', GATEWAY_API_KEYS: 'key-one-0123456789,key-two-9876543210' }

async function login(app: Awaited<ReturnType<typeof buildGateway>>['app'], username: string, password: string) {
  const res = await app.inject({ method: 'POST', url: '/api/auth', payload: { username, password } })
  const cookie = res.cookies.find((c) => c.name === 'evercycle_session')
  return { res, cookie, header: cookie === undefined ? '' : `evercycle_session=${cookie.value}` }
}

t.test('operations need an API key or a session; health, ready, list and docs stay open', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { app } = await buildGateway(t, { sim, env: SESSION })
  const anon = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(anon.statusCode, 401)
  t.equal(anon.json().error.code, 'unauthorized')
  t.equal(sim.calls.length, 0, 'nothing reached upstream')
  for (const url of ['/health', '/api/health', '/api/ready', '/api/list', '/docs/json']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url)
  }
})

t.test('API keys act as the service identity, by x-api-key or Bearer', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { app } = await buildGateway(t, { sim, env: SESSION })
  const a = await app.inject({ method: 'GET', url: '/api/get-all', headers: { 'x-api-key': 'key-one-0123456789' } })
  t.equal(a.statusCode, 200)
  const b = await app.inject({ method: 'GET', url: '/api/get-all', headers: { authorization: 'Bearer key-two-9876543210' } })
  t.equal(b.statusCode, 200)
  t.same(sim.callsTo('GET', '/v1/asset').map((c) => c.user), [DEMO_USERNAME, DEMO_USERNAME], 'service credentials')
  for (const headers of [{ 'x-api-key': 'key-one-012345678' }, { authorization: 'Bearer nope' }, { 'x-api-key': '' }]) {
    const res = await app.inject({ method: 'GET', url: '/api/get-all', headers })
    t.equal(res.statusCode, 401)
  }
})

t.test('each session uses its own user tokens; a new sign-in never replaces anyone else', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { app } = await buildGateway(t, { sim, env: SESSION })
  const alice = await login(app, 'alice@example.com', 'alice-pw-1')
  t.equal(alice.res.statusCode, 200)
  t.equal(alice.res.json().status, 'success')
  t.ok(alice.cookie, 'a session cookie is set')
  t.equal(alice.cookie?.httpOnly, true)
  t.equal(alice.cookie?.sameSite, 'Lax')
  t.equal(alice.cookie?.path, '/api')
  t.notOk(alice.cookie?.secure, 'not Secure outside production unless COOKIE_SECURE=true')
  t.ok((alice.cookie?.maxAge ?? 0) > 0)
  const bob = await login(app, 'bob@example.com', 'bob-pw-1')
  t.not(alice.cookie?.value, bob.cookie?.value)

  await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: bob.header } })
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })
  t.same(sim.callsTo('GET', '/v1/asset').map((c) => c.user), ['alice@example.com', 'bob@example.com', 'alice@example.com'])
  t.equal(sim.counts.signIns, 2, 'no service sign-in happened')

  const bad = await login(app, 'alice@example.com', 'wrong')
  t.equal(bad.res.statusCode, 401)
  t.equal(bad.cookie, undefined)
})

t.test('a session whose refresh is refused ends with 401; it never falls back to the service account', async (t) => {
  const sim = await startSimulator(t, { users: USERS, tokenTtlMs: 30_000 })
  const { app } = await buildGateway(t, { sim, env: { ...SESSION, TOKEN_REFRESH_SKEW_SECONDS: '3600' } })
  const alice = await login(app, 'alice@example.com', 'alice-pw-1')
  sim.revokeRefreshTokens()
  sim.revokeAccessTokens()
  const res = await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error.code, 'unauthorized')
  const cleared = res.cookies.find((c) => c.name === 'evercycle_session')
  t.equal(cleared?.value, '', 'the cookie is cleared')
  t.equal(sim.counts.signIns, 1, 'no sign-in with the service credentials')
  t.equal(sim.callsTo('GET', '/v1/asset').filter((c) => c.authenticated).length, 0)
  const after = await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })
  t.equal(after.statusCode, 401, 'the session is gone')
})

t.test('a session refreshes with its own refresh token', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { app } = await buildGateway(t, { sim, env: SESSION })
  const alice = await login(app, 'alice@example.com', 'alice-pw-1')
  sim.revokeAccessTokens()
  const res = await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })
  t.equal(res.statusCode, 200)
  t.equal(sim.counts.refreshes, 1)
  t.same(sim.callsTo('GET', '/v1/asset').filter((c) => c.authenticated).map((c) => c.user), ['alice@example.com'])
})

t.test('logout ends the session', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { app } = await buildGateway(t, { sim, env: SESSION })
  const alice = await login(app, 'alice@example.com', 'alice-pw-1')
  const out = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: alice.header } })
  t.equal(out.statusCode, 200)
  t.same(out.json(), { status: 'success', message: 'Logged out' })
  t.equal(out.cookies.find((c) => c.name === 'evercycle_session')?.value, '')
  const res = await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })
  t.equal(res.statusCode, 401)
})

t.test('sessions survive a restart, are stored 0600 without the cookie secret, and expire', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const dir = await tempDir(t)
  const first = await buildGateway(t, { sim, dir, env: SESSION })
  const alice = await login(first.app, 'alice@example.com', 'alice-pw-1')
  await first.app.close()
  const sessionFile = path.join(dir, 'auth.properties.sessions')
  t.equal((await stat(sessionFile)).mode & 0o777, 0o600)
  t.equal((await stat(path.join(dir, 'session.secret'))).mode & 0o777, 0o600)
  const raw = await readFile(sessionFile, 'utf8')
  const cookieSecret = decodeURIComponent(alice.cookie?.value ?? '').split('.')[0] ?? 'missing'
  t.notOk(raw.includes(cookieSecret), 'the cookie secret is not stored, only its hash')

  const second = await buildGateway(t, { sim, dir, env: SESSION })
  t.equal((await second.app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })).statusCode, 200)
  t.equal(sim.counts.signIns, 1, 'no new sign-in after the restart')
  await second.app.close()

  const data = JSON.parse(raw) as { sessions: Record<string, { expiresAt: number }> }
  for (const s of Object.values(data.sessions)) s.expiresAt = Date.now() - 1000
  await writeFile(sessionFile, JSON.stringify(data), { mode: 0o600 })
  const third = await buildGateway(t, { sim, dir, env: SESSION })
  t.equal((await third.app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie: alice.header } })).statusCode, 401, 'expired')
})

t.test('a tampered or unsigned cookie is refused', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { app } = await buildGateway(t, { sim, env: SESSION })
  const alice = await login(app, 'alice@example.com', 'alice-pw-1')
  const value = decodeURIComponent(alice.cookie?.value ?? '')
  const [secret] = value.split('.')
  for (const cookie of [`evercycle_session=${secret}`, `evercycle_session=${secret}.forged`, 'evercycle_session=x']) {
    t.equal((await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie } })).statusCode, 401)
  }
})

t.test('SESSION_SECRET is required in production; elsewhere one is generated and a warning logged', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const production = {
    ...SESSION,
    NODE_ENV: 'production',
    // the other production-required secrets, so only SESSION_SECRET is missing
    FLOWRUNNER_SECRETS_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    FLOWRUNNER_JWT_SECRET: 'jwt-secret-for-this-test-0123456789abcdef'
  }
  await t.rejects(buildGateway(t, { sim, env: production }), /SESSION_SECRET is required/)
  const logs = new LogCapture()
  await buildGateway(t, { sim, env: SESSION, logs })
  t.match(logs.text, /SESSION_SECRET is not set: generated one/)
  const none = new LogCapture()
  await buildGateway(t, { sim, env: { GATEWAY_AUTH: 'none' }, logs: none })
  t.match(none.text, /GATEWAY_AUTH=none/)
})

t.test('COOKIE_SECURE and COOKIE_SAMESITE shape the cookie', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { app } = await buildGateway(t, { sim, env: { ...SESSION, COOKIE_SECURE: 'true', COOKIE_SAMESITE: 'none' } })
  const alice = await login(app, 'alice@example.com', 'alice-pw-1')
  t.equal(alice.cookie?.secure, true)
  t.equal(alice.cookie?.sameSite, 'None')
  await t.rejects(buildGateway(t, { sim, env: { ...SESSION, COOKIE_SECURE: 'false', COOKIE_SAMESITE: 'none' } }), /COOKIE_SAMESITE=none requires/)
})
