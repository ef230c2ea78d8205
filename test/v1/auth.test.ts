import { createHmac } from 'node:crypto'
import { stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { JWT_SECRET_FILE } from '../../plugins/flow-auth.js'
import { SECRETS_KEY_FILE } from '../../plugins/secret-vault.js'
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  backendEnv,
  buildApp,
  buildFlowRunner,
  eachBackend,
  JWT_SECRET,
  SECRETS_KEY,
  testSchema
} from '../helpers/flowrunner.js'
import { LogCapture, tempDir } from '../helpers/gateway.js'

function decode(token: string): Record<string, unknown> {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString()),
    ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())
  }
}

/** A token signed like the server's, with whatever claims and header the test wants. */
function mint(claims: Record<string, unknown>, secret = JWT_SECRET, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const body = `${enc(header)}.${enc(claims)}`
  if (header.alg === 'none') return `${body}.`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

eachBackend('POST /api/v1/auth/login answers a HS256 JWT with sub, jti and exp', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const res = await fr.request('POST', '/api/v1/auth/login', { body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['account_id', 'expires_at', 'token'])
  const claims = decode(body.token)
  t.same(claims.header, { alg: 'HS256', typ: 'JWT' })
  t.equal(claims.sub, body.account_id)
  t.equal(claims.sub, fr.admin.id)
  t.match(claims.jti, /^[0-9a-f-]{36}$/)
  t.equal(typeof claims.iat, 'number')
  t.equal(new Date(body.expires_at).getTime(), (claims.exp as number) * 1000)
  t.equal((claims.exp as number) - (claims.iat as number), 3600, 'FLOWRUNNER_JWT_TTL defaults to an hour')

  const again = await fr.request('POST', '/api/v1/auth/login', { body: { username: ADMIN_EMAIL.toUpperCase(), password: ADMIN_PASSWORD } })
  t.equal(again.statusCode, 200, 'the username is matched case-insensitively')
  t.not(decode(again.json().token).jti, claims.jti, 'every token has its own id')
})

eachBackend('login refuses wrong credentials with 401 and a malformed request with 400', async (t, backend) => {
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs })
  for (const body of [
    { username: ADMIN_EMAIL, password: 'wrong-password' },
    { username: 'nobody@example.com', password: ADMIN_PASSWORD }
  ]) {
    const res = await fr.request('POST', '/api/v1/auth/login', { body })
    t.equal(res.statusCode, 401)
    t.same(res.json(), { error: { code: 'unauthorized', message: 'Invalid username or password', details: null } }, 'unknown user and wrong password look alike')
  }
  const missing = await fr.request('POST', '/api/v1/auth/login', { body: { username: ADMIN_EMAIL } })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error.code, 'invalid_request')
  t.equal(missing.json().error.details.field, 'password')
  t.equal(missing.json().error.details.reason, 'is required')

  const notJson = await fr.request('POST', '/api/v1/auth/login', { body: '{"username":', headers: { 'content-type': 'application/json' } })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.json().error.code, 'invalid_request')

  t.notMatch(logs.text, /wrong-password/, 'passwords never reach the log')
  t.notMatch(logs.text, new RegExp(ADMIN_PASSWORD), 'passwords never reach the log')
})

eachBackend('failed logins are rate limited per client and username', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_LOGIN_RATE_LIMIT: '3' } })
  const user = await fr.createUser()
  for (let i = 0; i < 3; i++) {
    const res = await fr.request('POST', '/api/v1/auth/login', { body: { username: user.email, password: 'not-it' } })
    t.equal(res.statusCode, 401)
  }
  const blocked = await fr.request('POST', '/api/v1/auth/login', { body: { username: user.email, password: user.password } })
  t.equal(blocked.statusCode, 429, 'even the right password waits for the window to pass')
  t.equal(blocked.json().error.code, 'rate_limited')
  t.ok(Number(blocked.headers['retry-after']) >= 1 && Number(blocked.headers['retry-after']) <= 60)

  t.equal((await fr.request('POST', '/api/v1/auth/login', { body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).statusCode, 200, 'other usernames are unaffected')
  const rows = await fr.sql<{ failures: number }>('SELECT failures FROM login_failures')
  t.same(rows.map((r) => r.failures), [3])
})

eachBackend('all login attempts from one address are capped at ten times the failure limit', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_LOGIN_RATE_LIMIT: '1' } })
  // the helper's own admin login was the first attempt; nine more usernames get one try each
  for (let i = 1; i < 10; i++) {
    const res = await fr.request('POST', '/api/v1/auth/login', { body: { username: `spray${i}@example.com`, password: 'Winter2024!' } })
    t.equal(res.statusCode, 401)
  }
  const capped = await fr.request('POST', '/api/v1/auth/login', { body: { username: 'spray10@example.com', password: 'Winter2024!' } })
  t.equal(capped.statusCode, 429)
  t.equal(capped.json().error.code, 'rate_limited')
  t.ok(Number(capped.headers['retry-after']) >= 1)
  t.equal((await fr.request('GET', '/api/v1/flows', { token: fr.admin.token })).statusCode, 200, 'other routes are not limited')
})

eachBackend('successful logins are not counted against the limit', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_LOGIN_RATE_LIMIT: '2' } })
  for (let i = 0; i < 4; i++) await fr.login(ADMIN_EMAIL, ADMIN_PASSWORD)
  // a failure, then a success clears the count
  t.equal((await fr.request('POST', '/api/v1/auth/login', { body: { username: ADMIN_EMAIL, password: 'nope-nope' } })).statusCode, 401)
  await fr.login(ADMIN_EMAIL, ADMIN_PASSWORD)
  t.same(await fr.sql('SELECT * FROM login_failures'), [])
})

eachBackend('refresh issues a new token and revokes the old one', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const old = fr.admin.token
  const res = await fr.request('POST', '/api/v1/auth/refresh', { token: old })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.account_id, fr.admin.id)
  t.not(body.token, old)
  t.not(decode(body.token).jti, decode(old).jti)

  t.equal((await fr.request('GET', '/api/v1/flows', { token: body.token })).statusCode, 200, 'the new token works')
  const stale = await fr.request('GET', '/api/v1/flows', { token: old })
  t.equal(stale.statusCode, 401, 'the old one is revoked')
  t.equal(stale.json().error.code, 'unauthorized')
  t.equal((await fr.request('POST', '/api/v1/auth/refresh', { token: old })).statusCode, 401, 'and cannot be refreshed again')
})

eachBackend('two concurrent refreshes of one token: exactly one succeeds', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const token = await fr.login(ADMIN_EMAIL, ADMIN_PASSWORD)
  const results = await Promise.all([1, 2, 3].map(() => fr.request('POST', '/api/v1/auth/refresh', { token })))
  t.same(results.map((r) => r.statusCode).sort(), [200, 401, 401])
})

eachBackend('logout revokes the token until it expires', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const token = await fr.login(ADMIN_EMAIL, ADMIN_PASSWORD)
  const res = await fr.request('POST', '/api/v1/auth/logout', { token })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { message: 'Logged out successfully' })
  t.equal((await fr.request('GET', '/api/v1/flows', { token })).statusCode, 401)
  t.equal((await fr.request('POST', '/api/v1/auth/logout', { token })).statusCode, 401)
  t.equal((await fr.request('POST', '/api/v1/auth/refresh', { token })).statusCode, 401)
  t.equal((await fr.request('GET', '/api/v1/flows', { token: fr.admin.token })).statusCode, 200, 'other tokens of the account still work')

  const rows = await fr.sql<{ jti: string; expires_at: Date }>('SELECT jti, expires_at FROM revoked_tokens')
  t.equal(rows.length, 1)
  t.equal(rows[0]?.jti, decode(token).jti)
  t.equal(rows[0]?.expires_at.getTime(), (decode(token).exp as number) * 1000, 'kept only until the token expires')
})

eachBackend('requests without a valid token get 401', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const now = Math.floor(Date.now() / 1000)
  const valid = { sub: fr.admin.id, jti: 'a-jti', iat: now, exp: now + 600 }
  const cases: [string, Record<string, string>][] = [
    ['no header', {}],
    ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['garbage', { authorization: 'Bearer not.a.jwt' }],
    ['expired', { authorization: `Bearer ${mint({ ...valid, iat: now - 7200, exp: now - 3600 })}` }],
    ['wrong secret', { authorization: `Bearer ${mint(valid, 'another-secret-another-secret-another-secret')}` }],
    ['alg none', { authorization: `Bearer ${mint(valid, JWT_SECRET, { alg: 'none', typ: 'JWT' })}` }],
    ['HS512', { authorization: `Bearer ${mint(valid, JWT_SECRET, { alg: 'HS512', typ: 'JWT' })}` }],
    ['unknown account', { authorization: `Bearer ${mint({ ...valid, sub: 'account-nope' })}` }],
    ['no jti', { authorization: `Bearer ${mint({ sub: fr.admin.id, iat: now, exp: now + 600 })}` }]
  ]
  for (const [name, headers] of cases) {
    const res = await fr.request('GET', '/api/v1/flows', { headers })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error.code, 'unauthorized', name)
    t.equal(res.headers['www-authenticate'], 'Bearer', name)
  }
  // the same claims, correctly signed, are accepted: the cases above fail for the reason they name
  t.equal((await fr.request('GET', '/api/v1/flows', { headers: { authorization: `Bearer ${mint(valid)}` } })).statusCode, 200)
})

eachBackend("a deleted account's tokens stop working at once", async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  t.equal((await fr.request('GET', '/api/v1/flows', { token: user.token })).statusCode, 200)
  t.equal((await fr.request('DELETE', `/api/v1/accounts/${user.id}`, { token: fr.admin.token })).statusCode, 200)
  t.equal((await fr.request('GET', '/api/v1/flows', { token: user.token })).statusCode, 401)
  t.equal((await fr.request('POST', '/api/v1/auth/refresh', { token: user.token })).statusCode, 401)
})

t.test('replicas on one database share revocations [postgres]', async (t) => {
  const { url } = await testSchema(t)
  const env = {
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: '2',
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY
  }
  // booting together: migrations and the first admin happen once
  const [a, b] = await Promise.all([buildApp(t, { env }), buildApp(t, { env })])
  const login = await a.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
  const token = login.json().token as string
  const auth = { authorization: `Bearer ${token}` }
  t.equal((await b.app.inject({ method: 'GET', url: '/api/v1/accounts', headers: auth })).json().total, 1, 'one admin, created once')
  t.equal((await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: auth })).statusCode, 200)
  t.equal((await b.app.inject({ method: 'GET', url: '/api/v1/flows', headers: auth })).statusCode, 401, 'the other replica honours the logout')
})

t.test('without FLOWRUNNER_JWT_SECRET a secret is generated once into DATA_DIR, with a warning', async (t) => {
  const dir = await tempDir(t)
  const env = { FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL, FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD }
  const logs = new LogCapture()
  const first = await buildApp(t, { dir, env, logs })
  const file = path.join(dir, 'data', JWT_SECRET_FILE)
  t.equal((await stat(file)).mode & 0o777, 0o600)
  t.equal((await stat(path.join(dir, 'data', SECRETS_KEY_FILE))).mode & 0o777, 0o600)
  t.match(logs.text, /FLOWRUNNER_JWT_SECRET is not set: generated/)
  t.match(logs.text, /FLOWRUNNER_SECRETS_KEY is not set: generated/)
  const login = await first.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
  const token = login.json().token as string
  await first.app.close()

  // a restart on the same DATA_DIR keeps the secret, so issued tokens stay valid
  const second = await buildApp(t, { dir, env })
  const res = await second.app.inject({ method: 'GET', url: '/api/v1/flows', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 200)
})

t.test('in production, boot fails without FLOWRUNNER_JWT_SECRET or FLOWRUNNER_SECRETS_KEY', async (t) => {
  const base = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), GATEWAY_API_KEYS: 'k'.repeat(40) }
  await t.rejects(buildApp(t, { env: { ...base, FLOWRUNNER_SECRETS_KEY: SECRETS_KEY } }), /FLOWRUNNER_JWT_SECRET is required when NODE_ENV=production/)
  await t.rejects(buildApp(t, { env: { ...base, FLOWRUNNER_JWT_SECRET: JWT_SECRET } }), /FLOWRUNNER_SECRETS_KEY is required when NODE_ENV=production/)
  const ok = await buildApp(t, { env: { ...base, FLOWRUNNER_JWT_SECRET: JWT_SECRET, FLOWRUNNER_SECRETS_KEY: SECRETS_KEY } })
  t.ok(ok.app.sessions, 'boots with both')
})

t.test('a secrets key file that cannot be created stops the boot as a configuration error (exit 78), naming the cause', async (t) => {
  const dir = await tempDir(t)
  // DATA_DIR under a regular file: the generated key can't be written there
  const file = path.join(dir, 'not-a-dir')
  await writeFile(file, 'x')
  const env = { ...(await backendEnv(t, 'postgres')), FLOWRUNNER_JWT_SECRET: JWT_SECRET, DATA_DIR: path.join(file, 'data') }
  await t.rejects(buildApp(t, { dir, env }), { name: 'ConfigError', message: /^Invalid configuration:\n {2}.*ENOTDIR/ })
})
