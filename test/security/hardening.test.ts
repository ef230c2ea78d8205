import { connect } from 'node:net'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { buildGateway, LogCapture, startSimulator } from '../helpers/gateway.js'

t.test('POST /api/auth is rate limited per client with Retry-After, in the error shape', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { AUTH_RATE_LIMIT: '3' } })
  const attempt = (ip: string) => app.inject({ method: 'POST', url: '/api/auth', remoteAddress: ip, payload: { username: DEMO_USERNAME, password: 'wrong' } })
  for (let i = 0; i < 3; i++) t.equal((await attempt('10.0.0.1')).statusCode, 401)
  const limited = await attempt('10.0.0.1')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().status, 'error')
  t.equal(limited.json().error.code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.equal(sim.counts.failedSignIns, 3, 'the limited attempt never reached Evercycle')
  t.equal((await attempt('10.0.0.2')).statusCode, 401, 'another client is not affected')
})

t.test('TRUST_PROXY decides whether X-Forwarded-For names the client', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { AUTH_RATE_LIMIT: '1', TRUST_PROXY: '127.0.0.1' } })
  const attempt = (xff: string) =>
    app.inject({ method: 'POST', url: '/api/auth', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': xff }, payload: { username: DEMO_USERNAME, password: 'wrong' } })
  t.equal((await attempt('203.0.113.1')).statusCode, 401)
  t.equal((await attempt('203.0.113.2')).statusCode, 401, 'a different client behind the trusted proxy')
  t.equal((await attempt('203.0.113.1')).statusCode, 429)
  await t.rejects(buildGateway(t, { sim, env: { TRUST_PROXY: '2' } }), /not a hop count/)
})

t.test('body limit 413, wrong media type 415, malformed JSON 400: all in the error shape', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { BODY_LIMIT_BYTES: '2048' } })
  await app.inject({ method: 'GET', url: '/api/get-all' })
  sim.reset()
  const cases = [
    { status: 413, code: 'payload_too_large', req: { payload: JSON.stringify({ name: 'x'.repeat(5000) }), headers: { 'content-type': 'application/json' } } },
    { status: 415, code: 'unsupported_media_type', req: { payload: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } } },
    { status: 415, code: 'unsupported_media_type', req: { payload: '{"name":"x"}', headers: { 'content-type': 'text/plain' } } },
    { status: 400, code: 'invalid_json', req: { payload: '{"name": ', headers: { 'content-type': 'application/json' } } },
    { status: 400, code: 'validation_error', req: { payload: '[1,2]', headers: { 'content-type': 'application/json' } } },
    { status: 400, code: 'validation_error', req: { payload: '"text"', headers: { 'content-type': 'application/json' } } }
  ]
  for (const c of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/create', ...c.req })
    t.equal(res.statusCode, c.status, c.code)
    t.equal(res.json().status, 'error')
    t.equal(res.json().error.code, c.code)
    t.equal(typeof res.json().message, 'string')
  }
  t.equal(sim.calls.length, 0)
})

t.test('hostile path parameters never reach another upstream path', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  await app.inject({ method: 'GET', url: '/api/get-all' })
  sim.reset()
  const values = ['..', '.', '../..', '../../auth/signin', '..%2f..%2fauth%2fsignin', '%2e%2e', '%252e%252e', 'a/../../b', '1001?admin=1', '1001%3Fadmin=1', '1001#x', '1001%23x', 'x'.repeat(300), 'a\r\nb', 'a\u0000b', '\u202e']
  const cases: Array<{ method: 'GET' | 'PUT'; url: string; payload?: object }> = []
  for (const v of values) {
    cases.push({ method: 'GET', url: `/api/get-asset-id?id=${encodeURIComponent(v)}` })
    cases.push({ method: 'GET', url: `/api/get-asset-id?id=${v}` })
    cases.push({ method: 'PUT', url: '/api/edit-asset-id', payload: { id: v, name: 'n' } })
    cases.push({ method: 'PUT', url: '/api/grade', payload: { id: v, grade: 'A' } })
    cases.push({ method: 'PUT', url: '/api/grade', payload: { id: '1', grade: v } })
  }
  for (const c of cases) {
    const res = await app.inject(c)
    t.ok(res.statusCode < 500, `${c.method} ${c.url} ${JSON.stringify(c.payload ?? '')} → ${res.statusCode}`)
    t.doesNotThrow(() => res.json())
    if (res.statusCode >= 400) t.equal(res.json().status, 'error')
  }
  for (const call of sim.calls) {
    t.match(call.path, /^\/v1\/(asset\/[^/]+|pricebook\/[^/]+\/[^/]+)$/, `reached only a templated path: ${call.path}`)
    t.notMatch(call.path, /(^|\/)(\.|%2e){1,2}(\/|$)/i, 'never a dot segment')
    t.equal(call.query, '', 'never a smuggled query')
  }
  t.equal(sim.callsTo('POST', '/v1/auth/signin').length, 0)
})

t.test('prototype-poisoning bodies are refused and Object.prototype stays clean', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  await app.inject({ method: 'GET', url: '/api/get-all' })
  sim.reset()
  const bodies = [
    '{"__proto__":{"polluted":true},"name":"x"}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"name":"x","nested":{"__proto__":{"polluted":true}}}',
    '{"prototype":{"polluted":true}}'
  ]
  for (const payload of bodies) {
    const res = await app.inject({ method: 'POST', url: '/api/create', payload, headers: { 'content-type': 'application/json' } })
    t.equal(res.statusCode, 400, payload)
    t.equal(res.json().status, 'error')
    t.equal(res.json().error.code, 'validation_error', `invalid input, not malformed JSON: ${payload}`)
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  t.equal(sim.calls.length, 0)
})

t.test('huge headers get 431 in the error shape', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const address = new URL(await app.listen({ port: 0, host: '127.0.0.1' }))
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(address.port), '127.0.0.1', () => {
      socket.write(`GET /api/get-all HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`)
    })
    let data = ''
    socket.on('data', (d) => (data += d.toString()))
    socket.on('close', () => resolve(data))
    socket.on('error', reject)
  })
  t.match(reply, /^HTTP\/1\.1 431/)
  const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))
  t.equal(body.status, 'error')
  t.equal(body.error.code, 'headers_too_large')
  t.equal(sim.calls.length, 0)
})

t.test('security headers: the API set on JSON responses, the HTML document set on the docs UI', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  for (const url of ['/api/health', '/api/get-all', '/api/nope']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.headers['x-content-type-options'], 'nosniff', url)
    t.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'", url)
    t.equal(res.headers['x-frame-options'], 'DENY', url)
    t.equal(res.headers['cross-origin-resource-policy'], undefined, `${url}: CORS, not CORP, decides who reads it`)
    t.equal(res.headers['strict-transport-security'], undefined, `${url}: no HSTS over plain HTTP (RFC 6797 §7.2)`)
    t.equal(res.headers['x-powered-by'], undefined, url)
    t.equal(res.headers['referrer-policy'], undefined, `${url}: no HTML document headers`)
  }
  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
  t.match(ui.headers['content-security-policy'], /script-src 'self'/)
  t.match(ui.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(ui.headers['referrer-policy'], 'no-referrer')
  t.equal(ui.headers['cross-origin-opener-policy'], 'same-origin')
  t.equal(ui.headers['x-content-type-options'], 'nosniff')
  t.equal(ui.headers['cross-origin-resource-policy'], 'cross-origin')
  // the legacy header says what CSP's frame-ancestors 'none' says, for browsers that only know the former
  t.equal(ui.headers['x-frame-options'], 'DENY', 'the docs UI may not be framed, like the API')
  t.equal(ui.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP')
})

t.test('HSTS only on requests that arrived over HTTPS, as a trusted proxy reports it', async (t) => {
  const sim = await startSimulator(t)
  const HSTS = 'max-age=15552000; includeSubDomains'
  const behindCaddy = await buildGateway(t, { sim, env: { TRUST_PROXY: '127.0.0.1' } })
  for (const url of ['/api/health', '/api/get-all', '/api/nope', '/docs/']) {
    const secure = await behindCaddy.app.inject({ method: 'GET', url, headers: { 'x-forwarded-proto': 'https' } })
    t.equal(secure.headers['strict-transport-security'], HSTS, `${url} over https through the trusted proxy`)
    const plain = await behindCaddy.app.inject({ method: 'GET', url, headers: { 'x-forwarded-proto': 'http' } })
    t.equal(plain.headers['strict-transport-security'], undefined, `${url} over http through the trusted proxy`)
  }
  // a client talking to the gateway directly can't claim HTTPS for itself
  const direct = await buildGateway(t, { sim })
  const forged = await direct.app.inject({ method: 'GET', url: '/api/health', headers: { 'x-forwarded-proto': 'https' } })
  t.equal(forged.statusCode, 200)
  t.equal(forged.headers['strict-transport-security'], undefined)
})

t.test('no token, password, API key, cookie or session id appears in any log line at trace level', async (t) => {
  const users = { [DEMO_USERNAME]: DEMO_PASSWORD, 'alice@example.com': 'alice-secret-pw' }
  const sim = await startSimulator(t, { users, tokenTtlMs: 30_000 })
  const logs = new LogCapture()
  const apiKey = 'api-key-never-logged-0123456789'
  const { app } = await buildGateway(t, { sim, logs, env: { GATEWAY_AUTH: 'session', GATEWAY_API_KEYS: apiKey, SESSION_SECRET: 'session-secret-never-logged-0123456789abcdef' } })
  const login = await app.inject({ method: 'POST', url: '/api/auth', payload: { username: 'alice@example.com', password: 'alice-secret-pw' } })
  const cookieValue = login.cookies.find((c) => c.name === 'evercycle_session')?.value ?? 'missing'
  const cookie = `evercycle_session=${cookieValue}`
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie } })
  await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'x' }, headers: { cookie, origin: 'https://ui.veraetime.net' } })
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { 'x-api-key': apiKey } })
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { authorization: `Bearer ${apiKey}` } })
  sim.revokeAccessTokens()
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie } })
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { 'x-api-key': 'wrong-key-also-secret' } })
  await app.inject({ method: 'POST', url: '/api/auth', payload: { username: 'alice@example.com', password: 'wrong-password-secret' } })
  await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } })
  await app.close()

  const text = logs.text
  t.ok(logs.lines.length > 20, 'trace logging produced lines')
  t.ok(sim.issued.length >= 6)
  const secrets = [...sim.issued, 'alice-secret-pw', 'wrong-password-secret', DEMO_PASSWORD, apiKey, 'wrong-key-also-secret', decodeURIComponent(cookieValue), cookieValue, decodeURIComponent(cookieValue).split('.')[0] ?? 'x', 'session-secret-never-logged']
  for (const secret of secrets) t.notOk(text.includes(secret), `not in logs: ${secret.slice(0, 10)}…`)
})
