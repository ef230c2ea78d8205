import { readFile, stat } from 'node:fs/promises'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { startSimulator } from '../helpers/gateway.js'
import { assertMissingAsset, parseJson, runCli, type Envelope, type ErrorReply } from './helpers/cli.js'
import { API_KEY, cliWorkspace, gateway } from './helpers/gateway-server.js'

t.test('through a gateway: auth, list and every operation, with the API key on every request', async (t) => {
  const sim = await startSimulator(t)
  const gw = await gateway(t, sim)
  const ws = await cliWorkspace(t)
  const via = ['--gateway', gw.url, '--api-key', API_KEY]

  const early = await runCli(ws, [...via, 'call', 'get-all'])
  t.equal(early.code, 1)
  t.match(parseJson<ErrorReply>(early.stderr), { status: 'error', error: { code: 'unauthorized' } })
  // the gateway's "POST /api/auth first", in the CLI's words for this mode
  t.match(parseJson<ErrorReply>(early.stderr).error.message, `run \`evercycle auth --gateway ${gw.url}\` first`)
  t.notMatch(early.stderr, /POST \/api\/auth/)

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
  // independent calls: side by side
  const results = await Promise.all(cases.map((c) => runCli(ws, [...via, 'call', ...c.args])))
  for (const [i, c] of cases.entries()) {
    const res = results[i] as Awaited<ReturnType<typeof runCli>>
    t.equal(res.code, 0, `${c.args[0]}: ${res.stderr}`)
    t.equal(parseJson<Envelope>(res.stdout).status, 'success')
    const received = sim.callsTo(c.method, c.path).at(-1)
    t.ok(received, `${c.method} ${c.path} reached Evercycle`)
    if (c.body !== undefined) t.same(received?.body, c.body, `${c.args[0]} body`)
    if (c.query !== undefined) t.equal(received?.query, c.query, `${c.args[0]} query`)
  }

  await assertMissingAsset(t, ws, via)

  t.ok(gw.keys.length >= 10)
  t.ok(gw.keys.every((k) => k === API_KEY), 'x-api-key on every request')
  const history = await readFile(ws.historyFile, 'utf8')
  t.notOk(history.includes(API_KEY), 'the API key never lands in the history')
  t.match(parseJson(history.trim().split('\n').at(-1) as string), { operation: 'get-asset-id', path: '/v1/asset/9999', status: 404, via: gw.url })
})

t.test('an unreachable gateway is reported as such', async (t) => {
  const ws = await cliWorkspace(t)
  const res = await runCli(ws, ['--gateway', 'http://127.0.0.1:9', 'list'])
  t.equal(res.code, 1)
  t.match(parseJson<ErrorReply>(res.stderr).error, { code: 'upstream_unavailable', message: 'The gateway at http://127.0.0.1:9 is unreachable' })
  const bad = await runCli(ws, ['--gateway', 'ftp://example.com', 'list'])
  t.equal(bad.code, 2)
})
