import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { startSimulator } from '../helpers/gateway.js'
import { KEY, PromptDriver, spawnCli, workspace } from './helpers/cli.js'

const down = (n: number): string => KEY.down.repeat(n)

t.test('interactive: sign in, call with prompted values and config defaults, edit, go back, quit', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim)
  await writeFile(path.join(ws.configDir, 'grade.json'), JSON.stringify({ path_params: { grade: 'B' }, body: { price: 10 } }))
  const cli = new PromptDriver(spawnCli(ws, ['interactive']))

  // menu: create, create-request, edit-asset-id, get-all, get-asset-id, grade, ─, Sign in, Quit
  await cli.answer(/\? Operation \(http:\/\/127\.0\.0\.1:\d+\)/, down(6) + KEY.enter)
  await cli.answer(/\? Evercycle username/, `${DEMO_USERNAME}\r`)
  await cli.answer(/\? Password for demo@evercycle\.test/, `${DEMO_PASSWORD}\r`)
  await cli.waitFor(/Signed in as demo@evercycle\.test; tokens kept in .*auth\.properties/)
  t.equal(sim.counts.signIns, 1)

  await cli.answer(/\? Operation/, down(4) + KEY.enter)
  await cli.answer(/\? Path parameter id \(in query\) \(Asset id\)/, '1002\r')
  await cli.answer(/\? Extra query parameter/, '\r')
  await cli.answer(/\? Extra header/, '\r')
  await cli.waitFor(/GET \/v1\/asset\/1002 → 200 \(\d+ ms\)\n\{\n {2}"status": "success",\n {2}"data": \{\n {4}"id": "1002",\n {4}"name": "iPhone 15"/)

  // change the values and call again: the previous value is the default now
  await cli.answer(/\? Next/, down(1) + KEY.enter)
  await cli.answer(/\? Path parameter id \(in query\) \(Asset id\) \(1002\)/, '1003\r')
  await cli.answer(/\? Extra query parameter/, 'verbose=1\r')
  await cli.answer(/\? Extra query parameter/, '\r')
  await cli.answer(/\? Extra header/, 'X-Trace=cli-test\r')
  await cli.answer(/\? Extra header/, '\r')
  // the typed definition only takes `id` in the query: the extra parameter is refused before any call, as an
  // unknown --query is (docs/cli.md)
  await cli.waitFor(/GET \/v1\/asset\/1003 failed \(\d+ ms\):\n\{\n {2}"status": "error"[\s\S]*"code": "usage_error"[\s\S]*get-asset-id has no query parameter \\"verbose\\"/)

  await cli.answer(/\? Next/, down(1) + KEY.enter)
  await cli.answer(/\? Path parameter id \(in query\) \(Asset id\) \(1003\)/, '\r')
  await cli.answer(/\? Extra query parameter/, '\r')
  await cli.answer(/\? Extra header/, '\r')
  await cli.waitFor(/GET \/v1\/asset\/1003 → 200/)

  // back to the list, then an operation with body fields and config defaults
  await cli.answer(/\? Next/, down(2) + KEY.enter)
  await cli.answer(/\? Operation/, down(5) + KEY.enter)
  await cli.answer(/\? Path parameter id \(in body\) \(Pricebook id\)/, 'PB-9\r')
  await cli.answer(/\? Path parameter grade \(in body\) \(Grade name\) \(B\)/, '\r')
  await cli.answer(/\? Extra query parameter/, '\r')
  await cli.answer(/\? Extra header/, '\r')
  await cli.answer(/\? Body price \(10\)/, '99\r')
  await cli.answer(/\? Extra body field/, 'note=hi\r')
  await cli.answer(/\? Extra body field/, 'tags:=["a","b"]\r')
  await cli.answer(/\? Extra body field/, '\r')
  await cli.waitFor(/PUT \/v1\/pricebook\/PB-9\/B → 200/)

  // call again with the same values, then quit
  await cli.answer(/\? Next/, KEY.enter)
  await cli.waitFor(/PUT \/v1\/pricebook\/PB-9\/B → 200/)
  await cli.answer(/\? Next/, down(3) + KEY.enter)
  cli.child.stdin.end()
  t.equal(await cli.exited, 0, cli.stderr)

  t.same(
    sim.calls.map((c) => `${c.method} ${c.path}`),
    ['POST /v1/auth/signin', 'GET /v1/asset/1002', 'GET /v1/asset/1003', 'PUT /v1/pricebook/PB-9/B', 'PUT /v1/pricebook/PB-9/B']
  )
  t.same(sim.callsTo('PUT', '/v1/pricebook/PB-9/B')[0]?.body, { price: 99, note: 'hi', tags: ['a', 'b'] })
  t.notOk(cli.text.includes(DEMO_PASSWORD), 'the password is not shown')

  const history = (await readFile(ws.historyFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { operation: string; status: number })
  t.same(history.map((h) => [h.operation, h.status]), [
    ['get-asset-id', 200],
    ['get-asset-id', 400],
    ['get-asset-id', 200],
    ['grade', 200],
    ['grade', 200]
  ])
})

t.test('interactive: closing the input leaves quietly', async (t) => {
  const ws = await workspace(t, undefined)
  const cli = new PromptDriver(spawnCli(ws, ['interactive']))
  await cli.waitFor(/\? Operation/)
  cli.child.stdin.end()
  t.equal(await cli.exited, 130)
  t.equal(cli.stderr, '')
})
