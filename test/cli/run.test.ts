import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { startSimulator } from '../helpers/gateway.js'
import { parseJson, runCli, workspace, type ErrorReply } from './helpers/cli.js'

const CREDENTIALS = { EVERCYCLE_USERNAME: DEMO_USERNAME, EVERCYCLE_PASSWORD: DEMO_PASSWORD }

interface RunReport {
  ok: boolean
  results: Array<{ operation: string; ok: boolean; status: number | null; code: string | null; ms: number; method: string; path: string }>
}

t.test('run --all signs in first, runs every operation with its config defaults and prints a summary', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim, CREDENTIALS)
  // the old workflow: generated configs, edited to hold the values each run should use
  const configs: Record<string, object> = {
    'get-asset-id': { path_params: { id: '1001' } },
    'edit-asset-id': { path_params: { id: '1002' }, body: { status: 'retired' } },
    grade: { path_params: { id: 'PB-1', grade: 'A' }, body: { price: 10 } },
    'get-all': { query_params: { status: 'active' } }
  }
  for (const [name, config] of Object.entries(configs)) await writeFile(path.join(ws.configDir, `${name}.json`), JSON.stringify(config))

  const res = await runCli(ws, ['run', '--all'])
  t.equal(res.code, 0, res.stderr)
  t.same(
    sim.calls.map((c) => `${c.method} ${c.path}${c.query === '' ? '' : `?${c.query}`}`),
    [
      'POST /v1/auth/signin',
      'POST /v1/asset/create',
      'POST /v1/asset/request',
      'PUT /v1/asset/1002',
      'GET /v1/asset?status=active',
      'GET /v1/asset/1001',
      'PUT /v1/pricebook/PB-1/A'
    ]
  )
  t.same(sim.callsTo('PUT', '/v1/asset/1002')[0]?.body, { status: 'retired' })
  t.same(sim.callsTo('PUT', '/v1/pricebook/PB-1/A')[0]?.body, { price: 10 })

  t.match(res.stderr, /Signing in \(http:\/\/127\.0\.0\.1:\d+\) … signed in with the configured credentials\n/)
  t.match(res.stderr, /\[1\/6\] create … 201 \(\d+ ms\)\n/)
  t.match(res.stderr, /\[6\/6\] grade … 200 \(\d+ ms\)\n/)
  const lines = res.stdout.trim().split('\n')
  t.match(lines[0], /^OPERATION\s+STATUS\s+TIME$/)
  t.match(lines.slice(1, 7), [
    /^create\s+201\s+\d+ ms$/,
    /^create-request\s+201\s+\d+ ms$/,
    /^edit-asset-id\s+200\s+\d+ ms$/,
    /^get-all\s+200\s+\d+ ms$/,
    /^get-asset-id\s+200\s+\d+ ms$/,
    /^grade\s+200\s+\d+ ms$/
  ])
  t.match(lines[7], /^6 succeeded, 0 failed \(\d+ ms\)$/)

  // a second run reuses the saved tokens
  const again = await runCli(ws, ['run', 'get-all', '--json'])
  t.equal(again.code, 0)
  t.match(again.stderr, 'saved tokens are valid')
  t.match(parseJson<RunReport>(again.stdout), { ok: true, results: [{ operation: 'get-all', ok: true, status: 200, method: 'GET', path: '/v1/asset' }] })
  t.equal(sim.counts.signIns, 1)
})

t.test('run exits 1 when any operation fails, and --bail stops at the first failure', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim, CREDENTIALS)
  const res = await runCli(ws, ['run', 'get-asset-id', 'get-all', '--json'])
  t.equal(res.code, 1)
  t.match(parseJson<RunReport>(res.stdout), {
    ok: false,
    results: [
      { operation: 'get-asset-id', ok: false, status: 400, code: 'validation_error' },
      { operation: 'get-all', ok: true, status: 200 }
    ]
  })
  t.match(res.stderr, /\[1\/2\] get-asset-id … failed: validation_error: query\.id /)

  const bail = await runCli(ws, ['run', 'get-asset-id', 'get-all', '--bail'])
  t.equal(bail.code, 1)
  t.match(bail.stdout, /get-asset-id\s+400 validation_error/)
  t.match(bail.stdout, /0 succeeded, 1 failed, 1 not run/)
  t.equal(sim.callsTo('GET', '/v1/asset').length, 1, 'the bailed run did not call get-all')
})

t.test('run fails before calling anything when it cannot sign in', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim)
  const res = await runCli(ws, ['run', '--all'])
  t.equal(res.code, 1)
  t.match(res.stderr, 'Signing in')
  t.match(parseJson<ErrorReply>(res.stderr.slice(res.stderr.indexOf('{'))).error, { code: 'unauthorized' })
  t.equal(sim.calls.length, 0)

  const refused = await runCli({ env: { ...ws.env, EVERCYCLE_USERNAME: DEMO_USERNAME, EVERCYCLE_PASSWORD: 'not-it' } }, ['run', 'get-all'])
  t.equal(refused.code, 1)
  t.match(parseJson<ErrorReply>(refused.stderr.slice(refused.stderr.indexOf('{'))).error, { code: 'unauthorized', message: 'Evercycle refused the service credentials' })
  t.notOk(refused.stderr.includes('not-it'))
})

t.test('run rejects a confused command line with exit 2', async (t) => {
  const ws = await workspace(t, undefined)
  const [none, both, unknown] = await Promise.all([
    runCli(ws, ['run']),
    runCli(ws, ['run', '--all', 'get-all']),
    runCli(ws, ['run', 'get-all', 'nope'])
  ])
  for (const res of [none, both, unknown]) t.equal(res.code, 2)
  t.match(parseJson<ErrorReply>(unknown.stderr).error, { code: 'usage_error', message: 'Unknown operation(s): nope' })
})
