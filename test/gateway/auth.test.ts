import { readFile, stat } from 'node:fs/promises'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { buildGateway, startSimulator } from '../helpers/gateway.js'

t.test('POST /api/auth signs in upstream and keeps the tokens server-side', async (t) => {
  const sim = await startSimulator(t)
  const { app, tokenFile } = await buildGateway(t, { sim, credentials: false })
  const res = await app.inject({ method: 'POST', url: '/api/auth', payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'success')
  t.equal(body.message, 'Authentication successful')
  t.ok(Date.parse(body.expires_at) > Date.now())
  t.ok(body.expires_in > 3500)
  t.equal(sim.counts.signIns, 1)
  t.same(sim.callsTo('POST', '/v1/auth/signin')[0]?.body, { username: DEMO_USERNAME, password: DEMO_PASSWORD })

  const file = await readFile(tokenFile, 'utf8')
  t.match(file, /^AccessToken=sim-at-/m)
  t.match(file, /^IdToken=.+\..+\..+$/m)
  t.match(file, /^RefreshToken=sim-rt-/m)
  t.match(file, /^ExpiresAt=\d{4}-/m)
  t.equal((await stat(tokenFile)).mode & 0o777, 0o600)
  const accessToken = /^AccessToken=(.+)$/m.exec(file)?.[1] ?? 'missing'
  t.notOk(res.body.includes(accessToken), 'the reply never carries a token')

  const call = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(call.statusCode, 200)
  const upstream = sim.callsTo('GET', '/v1/asset')[0]
  t.equal(upstream?.authenticated, true, 'the stored tokens were injected')
})

t.test('POST /api/auth answers 400 in the error shape when a field is missing', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  for (const payload of [{ username: DEMO_USERNAME }, { password: 'x' }, {}]) {
    const res = await app.inject({ method: 'POST', url: '/api/auth', payload })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.equal(body.status, 'error')
    t.equal(body.error.code, 'validation_error')
    t.equal(typeof body.message, 'string')
    t.equal(body.message, body.error.message)
    t.ok(Array.isArray(body.error.details))
  }
  t.equal(sim.calls.length, 0, 'nothing reached upstream')
})

t.test('POST /api/auth answers 401 when Evercycle refuses', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'POST', url: '/api/auth', payload: { username: DEMO_USERNAME, password: 'wrong' } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error.code, 'unauthorized')
  t.notOk(res.body.includes('wrong'), 'the password is not echoed')
})
