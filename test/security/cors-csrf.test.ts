import t from 'tap'
import { OriginPolicy } from '../../src/http/origin-policy.js'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { buildGateway, startSimulator } from '../helpers/gateway.js'

const DEFAULT = ['http://localhost:3000', 'http://127.0.0.1:3000', 'https://ui.veraetime.net', 'https://*.ngrok.io', 'https://*.ngrok-free.app']

t.test('the origin allow-list: exact entries and one-label wildcards', async (t) => {
  const policy = new OriginPolicy(DEFAULT)
  const allowed = ['http://localhost:3000', 'http://127.0.0.1:3000', 'https://ui.veraetime.net', 'https://abc123.ngrok.io', 'https://my-app.ngrok-free.app', 'https://UI.veraetime.net']
  const refused = [
    'https://a.ngrok.io.evil.com',
    'http://a.ngrok.io',
    'https://a.b.ngrok.io',
    'https://ngrok.io',
    'https://.ngrok.io',
    'https://a.ngrok.io:8443',
    'null',
    '',
    'http://localhost:3001',
    'https://localhost:3000',
    'http://ui.veraetime.net',
    'https://ui.veraetime.net.evil.com',
    'https://evilui.veraetime.net',
    'https://ui.veraetime.net/path',
    'https://user@ui.veraetime.net',
    'https://-bad.ngrok.io',
    'file://',
    'javascript:alert(1)'
  ]
  for (const origin of allowed) t.ok(policy.allows(origin), `allows ${origin}`)
  for (const origin of refused) t.notOk(policy.allows(origin), `refuses ${JSON.stringify(origin)}`)
  t.notOk(policy.allows(undefined))
  t.ok(new OriginPolicy(['https://*.example.com:8443']).allows('https://a.example.com:8443'), 'a port given in the entry')
  t.throws(() => new OriginPolicy(['not an origin']))
})

t.test('actual responses grant only allowed origins, always Vary: Origin, never upstream CORS headers', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const ok = await app.inject({ method: 'GET', url: '/api/get-all', headers: { origin: 'https://abc.ngrok.io' } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['access-control-allow-origin'], 'https://abc.ngrok.io')
  t.equal(ok.headers['access-control-allow-credentials'], 'true')
  t.match(ok.headers.vary, /Origin/)

  for (const origin of ['https://evil.example', 'https://a.ngrok.io.evil.com', 'null']) {
    const res = await app.inject({ method: 'GET', url: '/api/get-all', headers: { origin } })
    t.equal(res.headers['access-control-allow-origin'], undefined, `no grant for ${origin} (upstream sent "*")`)
    t.equal(res.headers['access-control-allow-credentials'], undefined)
    t.match(res.headers.vary, /Origin/)
  }
  const plain = await app.inject({ method: 'GET', url: '/api/health' })
  t.match(plain.headers.vary, /Origin/, 'Vary: Origin even without an Origin')
  t.equal(sim.callsTo('GET', '/v1/asset').length, 4)
})

t.test('preflights: a grant for allowed origins, none for refused ones', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const preflight = (origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: '/api/create',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
    })
  const ok = await preflight('https://ui.veraetime.net')
  t.equal(ok.statusCode, 204)
  t.equal(ok.headers['access-control-allow-origin'], 'https://ui.veraetime.net')
  t.equal(ok.headers['access-control-allow-credentials'], 'true')
  t.match(ok.headers['access-control-allow-methods'], /POST/)
  t.match(ok.headers['access-control-allow-headers'], /content-type/)
  const refused = await preflight('https://evil.example')
  t.equal(refused.headers['access-control-allow-origin'], undefined)
  t.equal(refused.headers['access-control-allow-credentials'], undefined)
  t.equal(sim.calls.length, 0)
})

t.test('cookie-bound writes from a refused Origin or Referer are 403 before anything reaches upstream', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { GATEWAY_AUTH: 'session', GATEWAY_API_KEYS: 'script-key-0123456789' } })
  const login = await app.inject({ method: 'POST', url: '/api/auth', payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })
  const cookie = `evercycle_session=${login.cookies.find((c) => c.name === 'evercycle_session')?.value}`
  sim.reset()

  const hostile = [{ origin: 'https://evil.example' }, { referer: 'https://evil.example/page' }, { origin: 'null' }, { origin: 'https://a.ngrok.io.evil.com' }]
  for (const headers of hostile) {
    for (const [method, url, payload] of [
      ['POST', '/api/create', { name: 'x' }],
      ['PUT', '/api/edit-asset-id', { id: '1001', name: 'x' }],
      ['PUT', '/api/grade', { id: '1', grade: 'A' }],
      ['POST', '/api/logout', {}],
      ['POST', '/api/auth', { username: DEMO_USERNAME, password: DEMO_PASSWORD }]
    ] as const) {
      const res = await app.inject({ method, url, payload, headers: { ...headers, cookie } })
      t.equal(res.statusCode, 403, `${method} ${url} with ${JSON.stringify(headers)}`)
      t.equal(res.json().error.code, 'forbidden')
    }
  }
  t.equal(sim.calls.length, 0, 'nothing reached upstream')

  const allowed = await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'ok' }, headers: { origin: 'https://ui.veraetime.net', cookie } })
  t.equal(allowed.statusCode, 201)
  const sameOrigin = await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'ok' }, headers: { origin: 'http://localhost:80', host: 'localhost:80', cookie } })
  t.equal(sameOrigin.statusCode, 201, 'the gateway’s own origin is fine')
  const script = await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'ok' }, headers: { cookie } })
  t.equal(script.statusCode, 201, 'no Origin and no Referer: not a browser cross-site request')
  const read = await app.inject({ method: 'GET', url: '/api/get-all', headers: { origin: 'https://evil.example', cookie } })
  t.equal(read.statusCode, 200, 'reads are not state-changing (CORS keeps their answer from the page)')
  t.equal(read.headers['access-control-allow-origin'], undefined)
  const withKey = await app.inject({
    method: 'POST',
    url: '/api/create',
    payload: { name: 'key' },
    headers: { origin: 'https://evil.example', cookie, 'x-api-key': 'script-key-0123456789' }
  })
  t.equal(withKey.statusCode, 201, 'API-key requests are not cookie-bound')
})
