import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME, type EvercycleSimulator } from '../../src/simulator/simulator.js'
import { buildGateway, startSimulator, tempDir, type Teardown } from '../helpers/gateway.js'
import { parseJson, runCli, workspace, type Envelope, type ErrorReply, type Workspace } from './helpers/cli.js'

const API_KEY = 'cli-test-key-0123456789'

interface Running {
  url: string
  /** x-api-key of every request the gateway received, read off its HTTP server. */
  keys: Array<string | undefined>
  listing: unknown
}

/** The real gateway on a loopback port in front of the simulator, with its own config dir. */
async function gateway(t: Teardown, sim: EvercycleSimulator, configs: Record<string, object> = {}, env: Record<string, string> = {}): Promise<Running> {
  const dir = await tempDir(t, 'gw-')
  await mkdir(path.join(dir, 'config'))
  for (const [name, config] of Object.entries(configs)) await writeFile(path.join(dir, 'config', `${name}.json`), JSON.stringify(config))
  const gw = await buildGateway(t, { sim, dir, credentials: false, env: { GATEWAY_AUTH: 'none', GATEWAY_API_KEYS: API_KEY, ...env } })
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const keys: Array<string | undefined> = []
  gw.app.server.on('request', (req: { headers: Record<string, string | string[] | undefined> }) => {
    const key = req.headers['x-api-key']
    keys.push(Array.isArray(key) ? key[0] : key)
  })
  const listing = (await gw.app.inject({ method: 'GET', url: '/api/list' })).json<{ apis: unknown }>().apis
  return { url: `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`, keys, listing }
}

/** The CLI's own Evercycle settings point nowhere: everything has to go through the gateway. */
async function cliWorkspace(t: Teardown): Promise<Workspace> {
  return workspace(t, undefined)
}

t.test('through a gateway: auth, list and every operation, with the API key on every request', async (t) => {
  const sim = await startSimulator(t)
  const gw = await gateway(t, sim)
  const ws = await cliWorkspace(t)
  const via = ['--gateway', gw.url, '--api-key', API_KEY]

  const early = await runCli(ws, [...via, 'call', 'get-all'])
  t.equal(early.code, 1)
  t.match(parseJson<ErrorReply>(early.stderr), { status: 'error', error: { code: 'unauthorized', message: /POST \/api\/auth/ } })

  const auth = await runCli(ws, [...via, 'auth', '-u', DEMO_USERNAME, '--password-stdin'], `${DEMO_PASSWORD}\n`)
  t.equal(auth.code, 0, auth.stderr)
  t.match(auth.stdout, `Signed in to Evercycle as ${DEMO_USERNAME} through the gateway at ${gw.url}; the gateway keeps the tokens for its service identity`)
  t.equal(sim.counts.signIns, 1)
  await t.rejects(stat(ws.tokenFile), { code: 'ENOENT' }, 'no tokens on the CLI side')

  const list = await runCli(ws, [...via, 'list', '--json'])
  t.equal(list.code, 0, list.stderr)
  t.same(parseJson(list.stdout), gw.listing, 'the gateway listing, as /api/list has it')

  const cases: Array<{ args: string[]; method: string; path: string; body?: unknown; query?: string }> = [
    { args: ['get-all', '--query', 'status=retired'], method: 'GET', path: '/v1/asset', query: 'status=retired' },
    { args: ['get-asset-id', '--param', 'id=1001'], method: 'GET', path: '/v1/asset/1001', query: '' },
    { args: ['create', '--set', 'name=Dock', '--set', 'serialNumber=SN-D'], method: 'POST', path: '/v1/asset/create', body: { status: 'active', name: 'Dock', serialNumber: 'SN-D' } },
    { args: ['create-request', '--body', '{"assetId":"1002"}'], method: 'POST', path: '/v1/asset/request', body: { type: 'pickup', assetId: '1002' } },
    { args: ['edit-asset-id', '--param', 'id=1003', '--set', 'status=retired'], method: 'PUT', path: '/v1/asset/1003', body: { status: 'retired' } },
    { args: ['grade', '--param', 'id=PB-2', '--param', 'grade=B', '--set', 'price=55'], method: 'PUT', path: '/v1/pricebook/PB-2/B', body: { price: 55 } }
  ]
  for (const c of cases) {
    const res = await runCli(ws, [...via, 'call', ...c.args])
    t.equal(res.code, 0, `${c.args[0]}: ${res.stderr}`)
    t.equal(parseJson<Envelope>(res.stdout).status, 'success')
    const received = sim.callsTo(c.method, c.path).at(-1)
    t.ok(received, `${c.method} ${c.path} reached Evercycle`)
    if (c.body !== undefined) t.same(received?.body, c.body, `${c.args[0]} body`)
    if (c.query !== undefined) t.equal(received?.query, c.query, `${c.args[0]} query`)
  }

  const missing = await runCli(ws, [...via, 'call', 'get-asset-id', '--param', 'id=9999'])
  t.equal(missing.code, 1)
  t.equal(missing.stdout, '')
  t.same(parseJson<ErrorReply>(missing.stderr), {
    status: 'error',
    message: 'Evercycle answered 404',
    error: { code: 'upstream_error', message: 'Evercycle answered 404', details: { upstream_status: 404, body: { message: 'Asset 9999 not found' } } }
  })

  t.ok(gw.keys.length >= 10)
  t.ok(gw.keys.every((k) => k === API_KEY), 'x-api-key on every request')
  const history = await readFile(ws.historyFile, 'utf8')
  t.notOk(history.includes(API_KEY), 'the API key never lands in the history')
  t.match(parseJson(history.trim().split('\n').at(-1) as string), { operation: 'get-asset-id', path: '/v1/asset/9999', status: 404, via: gw.url })
})

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
  const sessionFile = path.join(ws.dir, 'evercycle-gateway-sessions')
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

t.test('an unreachable gateway is reported as such', async (t) => {
  const ws = await cliWorkspace(t)
  const res = await runCli(ws, ['--gateway', 'http://127.0.0.1:9', 'list'])
  t.equal(res.code, 1)
  t.match(parseJson<ErrorReply>(res.stderr).error, { code: 'upstream_unavailable', message: 'The gateway at http://127.0.0.1:9 is unreachable' })
  const bad = await runCli(ws, ['--gateway', 'ftp://example.com', 'list'])
  t.equal(bad.code, 2)
})
