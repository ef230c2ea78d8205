import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { startSimulator } from '../helpers/gateway.js'
import { parseJson, runCli, signedIn, type Envelope } from './helpers/cli.js'

t.test('call performs every operation and prints the success envelope', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)

  const all = await runCli(ws, ['call', 'get-all', '--query', 'status=active'])
  t.equal(all.code, 0, all.stderr)
  const assets = parseJson<Envelope>(all.stdout)
  t.equal(assets.status, 'success')
  t.same((assets.data.assets as Array<{ status: string }>).map((a) => a.status), ['active', 'active', 'active'])
  t.match(sim.callsTo('GET', '/v1/asset'), [{ query: 'status=active', authenticated: true }])

  const one = await runCli(ws, ['call', 'get-asset-id', '--param', 'id=1002'])
  t.equal(one.code, 0, one.stderr)
  t.same(parseJson<Envelope>(one.stdout), { status: 'success', data: sim.assets.get('1002') })
  t.match(sim.callsTo('GET', '/v1/asset/1002'), [{ query: '', authenticated: true }])

  const created = await runCli(ws, ['call', 'create', '--set', 'name=Test laptop', '--set', 'serialNumber=SN-9', '--set', 'quantity:=2'])
  t.equal(created.code, 0, created.stderr)
  t.match(parseJson<Envelope>(created.stdout).data, { name: 'Test laptop', status: 'active', quantity: 2 })
  // the endpoint's default body (status) merged under what was given
  t.same(sim.callsTo('POST', '/v1/asset/create')[0]?.body, { status: 'active', name: 'Test laptop', serialNumber: 'SN-9', quantity: 2 })

  const bodyFile = path.join(ws.dir, 'request.json')
  await writeFile(bodyFile, JSON.stringify({ assetId: '1001', notes: 'pick up Monday' }))
  const request = await runCli(ws, ['call', 'create-request', '--body', `@${bodyFile}`])
  t.equal(request.code, 0, request.stderr)
  t.match(parseJson<Envelope>(request.stdout).data, { status: 'pending', type: 'pickup' })
  t.same(sim.callsTo('POST', '/v1/asset/request')[0]?.body, { type: 'pickup', assetId: '1001', notes: 'pick up Monday' })

  const edited = await runCli(ws, ['call', 'edit-asset-id', '--param', 'id=1001', '--body', '{"status":"retired","grade":"C"}'])
  t.equal(edited.code, 0, edited.stderr)
  t.match(parseJson<Envelope>(edited.stdout).data, { id: '1001', status: 'retired', grade: 'C' })
  // --param lands where the definition takes it (the body) and is consumed into the path
  t.same(sim.callsTo('PUT', '/v1/asset/1001')[0]?.body, { status: 'retired', grade: 'C' })

  const graded = await runCli(ws, ['call', 'grade', '--param', 'id=PB-7', '--param', 'grade=A+', '--set', 'price=120'])
  t.equal(graded.code, 0, graded.stderr)
  t.match(parseJson<Envelope>(graded.stdout).data, { id: 'PB-7', grade: 'A+', price: 120 })
  // encoded as one segment; the price converted to a number by the operation's schema
  t.same(sim.callsTo('PUT', '/v1/pricebook/PB-7/A%2B')[0]?.body, { price: 120 })

  t.equal(sim.counts.signIns, 0, 'the saved tokens were used')
  t.equal(sim.counts.unauthorized, 0)
})

t.test('--body from stdin and a path parameter given in the body', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  const res = await runCli(ws, ['call', 'grade', '--body', '@-'], '{"id":"PB-1","grade":"B","price":80}')
  t.equal(res.code, 0, res.stderr)
  t.same(sim.callsTo('PUT', '/v1/pricebook/PB-1/B')[0]?.body, { price: 80 })
})
