import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { startSimulator } from '../helpers/gateway.js'
import { parseJson, runCli, type ErrorReply } from './helpers/cli.js'
import { API_KEY, cliWorkspace, gateway } from './helpers/gateway-server.js'

t.test('through a gateway: run --all with the gateway\'s config defaults, settings from the environment', async (t) => {
  const sim = await startSimulator(t)
  const gw = await gateway(t, sim, {
    'get-asset-id': { path_params: { id: '1004' } },
    'edit-asset-id': { path_params: { id: '1005' }, body: { status: 'retired' } },
    grade: { path_params: { id: 'PB-3', grade: 'C' } }
  })
  const ws = await cliWorkspace(t)
  const env = { env: { ...ws.env, EVERCYCLE_GATEWAY_URL: gw.url, EVERCYCLE_GATEWAY_API_KEY: API_KEY, EVERCYCLE_USERNAME: DEMO_USERNAME, EVERCYCLE_PASSWORD: DEMO_PASSWORD } }

  const res = await runCli(env, ['run', '--all'])
  t.equal(res.code, 0, res.stderr)
  // the gateway was not signed in: the CLI signed it in (POST /api/auth) before running
  t.match(res.stderr, 'the gateway signed in with the configured credentials')
  t.equal(sim.counts.signIns, 1)
  t.match(res.stdout, /6 succeeded, 0 failed/)
  for (const [method, p] of [['GET', '/v1/asset/1004'], ['PUT', '/v1/asset/1005'], ['PUT', '/v1/pricebook/PB-3/C'], ['GET', '/v1/asset']]) {
    t.equal(sim.callsTo(method as string, p as string).length, 1, `${method} ${p}`)
  }
  t.ok(gw.keys.every((k) => k === API_KEY))
})

t.test('through a gateway with sessions: auth keeps the session cookie, later calls use the user\'s own tokens', async (t) => {
  const sim = await startSimulator(t)
  const gw = await gateway(t, sim, {}, { GATEWAY_AUTH: 'session' })
  const ws = await cliWorkspace(t)
  const via = ['--gateway', gw.url]

  const anonymous = await runCli(ws, [...via, 'call', 'get-all'])
  t.equal(anonymous.code, 1)
  t.match(parseJson<ErrorReply>(anonymous.stderr).error, { code: 'unauthorized', message: /Authentication required/ })

  const auth = await runCli(ws, [...via, 'auth', '-u', DEMO_USERNAME, '--password-stdin'], `${DEMO_PASSWORD}\n`)
  t.equal(auth.code, 0, auth.stderr)
  const sessionFile = path.join(ws.stateDir, 'gateway-sessions')
  t.match(auth.stdout, `it started a session and keeps the tokens`)
  t.match(auth.stdout, `The session cookie is kept in ${sessionFile} (mode 0600)`)
  t.equal((await stat(sessionFile)).mode & 0o777, 0o600)
  const cookie = parseJson<{ sessions: Record<string, { cookie: string }> }>(await readFile(sessionFile, 'utf8')).sessions[gw.url]?.cookie
  t.match(cookie, /^evercycle_session=.{20,}/)
  t.notOk(auth.stdout.includes((cookie as string).split('=')[1] as string), 'the cookie is not printed')

  const call = await runCli(ws, [...via, 'call', 'get-asset-id', '-p', 'id=1001'])
  t.equal(call.code, 0, call.stderr)
  t.match(sim.callsTo('GET', '/v1/asset/1001'), [{ authenticated: true }])
  const run = await runCli(ws, [...via, 'run', 'get-all'])
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, 'using the gateway session')
  t.equal(sim.counts.signIns, 1, 'one sign-in: the session\'s')

  // an API key takes precedence: the gateway's service identity, which has no credentials here
  const keyed = await runCli(ws, [...via, '--api-key', API_KEY, 'call', 'get-all'])
  t.equal(keyed.code, 1)
  t.match(parseJson<ErrorReply>(keyed.stderr).error, { code: 'unauthorized' })
  t.notOk((await readFile(ws.historyFile, 'utf8')).includes((cookie as string).split('=')[1] as string))
})
