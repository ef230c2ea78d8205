import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { buildGateway, LogCapture, startSimulator, tempDir } from '../helpers/gateway.js'

t.test('get-all passes the query through and wraps the answer', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'GET', url: '/api/get-all?status=active&tag=a&tag=b' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /application\/json/)
  const body = res.json()
  t.equal(body.status, 'success')
  t.ok(body.data.assets.length > 0)
  t.ok(body.data.assets.every((a: { status: string }) => a.status === 'active'))
  const call = sim.callsTo('GET', '/v1/asset')[0]
  t.equal(call?.query, 'status=active&tag=a&tag=b')
})

t.test('get-asset-id takes the id from the query and puts it in the path', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'GET', url: '/api/get-asset-id?id=1001' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().data.id, '1001')
  t.equal(sim.callsTo('GET', '/v1/asset/1001').length, 1)
  t.equal(sim.callsTo('GET', '/v1/asset/1001')[0]?.query, '', 'the id is not forwarded as a query parameter')

  const missing = await app.inject({ method: 'GET', url: '/api/get-asset-id?id=999999' })
  t.equal(missing.statusCode, 404, 'upstream 404 passes through')
  t.equal(missing.json().error.code, 'upstream_error')
  t.same(missing.json().error.details.body, { message: 'Asset 999999 not found' })

  const noId = await app.inject({ method: 'GET', url: '/api/get-asset-id' })
  t.equal(noId.statusCode, 400)
  t.equal(noId.json().error.code, 'validation_error')
})

t.test('create merges the client body over the defaults', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'Laptop', serialNumber: 'X1' } })
  t.equal(res.statusCode, 201, 'upstream 2xx status is kept')
  t.same(sim.callsTo('POST', '/v1/asset/create')[0]?.body, { status: 'active', name: 'Laptop', serialNumber: 'X1' })
  const override = await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'Phone', status: 'retired' } })
  t.equal(override.json().data.status, 'retired', 'client wins over the default')
})

t.test('create-request posts the merged body', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'POST', url: '/api/create-request', payload: { assetId: '1001' } })
  t.equal(res.statusCode, 201)
  t.same(sim.callsTo('POST', '/v1/asset/request')[0]?.body, { type: 'pickup', assetId: '1001' })
})

t.test('edit-asset-id takes the id from the body and sends the rest', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'PUT', url: '/api/edit-asset-id', payload: { id: 1002, status: 'repaired' } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().data.status, 'repaired')
  t.same(sim.callsTo('PUT', '/v1/asset/1002')[0]?.body, { status: 'repaired' }, 'id is not in the forwarded body')
})

t.test('grade takes id and grade from the body', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'PUT', url: '/api/grade', payload: { id: 'pb-7', grade: 'A+', price: 120.5 } })
  t.equal(res.statusCode, 200)
  t.same(res.json().data, { ...res.json().data, id: 'pb-7', grade: 'A+', price: 120.5 })
  t.equal(sim.callsTo('PUT', '/v1/pricebook/pb-7/A%2B').length, 1, 'the grade is percent-encoded as one segment')
  t.same(sim.callsTo('PUT', '/v1/pricebook/pb-7/A%2B')[0]?.body, { price: 120.5 })
  const bad = await app.inject({ method: 'PUT', url: '/api/grade', payload: { id: 'pb-7', price: 'cheap' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'validation_error')
})

t.test('wrong method is 405 with Allow; unknown operation is 404', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const wrong = await app.inject({ method: 'POST', url: '/api/get-all', payload: {} })
  t.equal(wrong.statusCode, 405)
  t.equal(wrong.headers.allow, 'GET, HEAD')
  t.equal(wrong.json().error.code, 'method_not_allowed')
  const wrongPut = await app.inject({ method: 'GET', url: '/api/grade' })
  t.equal(wrongPut.statusCode, 405)
  t.equal(wrongPut.headers.allow, 'PUT')
  const unknown = await app.inject({ method: 'GET', url: '/api/no-such-api' })
  t.equal(unknown.statusCode, 404)
  t.same(Object.keys(unknown.json()).sort(), ['error', 'message', 'status'])
  t.equal(unknown.json().error.code, 'not_found')
  t.equal(sim.calls.length, 0)
})

t.test('traversal in path parameters never reaches another upstream path', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  await app.inject({ method: 'GET', url: '/api/get-all' })
  sim.reset()
  const ids = ['../../auth/signin', '..', '.', '%2e%2e', '..%2f..%2fauth', '1001/../../auth/signin', '1001?x=1', '1001#frag', 'a\u0000b']
  for (const id of ids) {
    const res = await app.inject({ method: 'GET', url: `/api/get-asset-id?id=${encodeURIComponent(id)}` })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${JSON.stringify(id)} → ${res.statusCode}`)
    t.equal(res.json().status, 'error')
  }
  for (const id of ['../../auth/signin', '..']) {
    const res = await app.inject({ method: 'PUT', url: '/api/edit-asset-id', payload: { id, name: 'x' } })
    t.ok(res.statusCode >= 400 && res.statusCode < 500)
  }
  const paths = sim.calls.map((c) => c.path)
  t.ok(paths.every((p) => /^\/v1\/asset\/[^/]+$/.test(p)), `only single-segment asset paths: ${paths.join(' ')}`)
  t.equal(sim.callsTo('POST', '/v1/auth/signin').length, 0)
  t.equal(sim.counts.signIns, 0)
})

t.test('config/<name>.json overrides defaults and defines new operations', async (t) => {
  const sim = await startSimulator(t)
  const dir = await tempDir(t)
  const configDir = path.join(dir, 'config')
  await mkdir(configDir)
  await writeFile(
    path.join(configDir, 'create.json'),
    JSON.stringify({
      path: '/v1/asset/create',
      method: 'POST',
      description: 'Create (tuned)',
      headers: { 'access-token': 'stale-from-old-tool', 'x-tenant': 'acme' },
      body: { status: 'intake', site: 'NYC' }
    })
  )
  await writeFile(
    path.join(configDir, 'get-active.json'),
    JSON.stringify({ url: 'https://api.evercycle.io/v1/asset', method: 'GET', description: 'Active assets', query_params: { status: 'active' } })
  )
  const { app } = await buildGateway(t, { sim, dir })
  const created = await app.inject({ method: 'POST', url: '/api/create', payload: { name: 'Dock' } })
  t.equal(created.statusCode, 201)
  t.same(sim.callsTo('POST', '/v1/asset/create')[0]?.body, { status: 'intake', site: 'NYC', name: 'Dock' })
  const active = await app.inject({ method: 'GET', url: '/api/get-active' })
  t.equal(active.statusCode, 200)
  t.equal(sim.callsTo('GET', '/v1/asset')[0]?.query, 'status=active')
  const list = (await app.inject({ method: 'GET', url: '/api/list' })).json()
  t.equal(list.status, 'success')
  t.same(
    list.apis.map((a: { name: string }) => a.name),
    ['create', 'create-request', 'edit-asset-id', 'get-active', 'get-all', 'get-asset-id', 'grade']
  )
  t.equal(list.apis.find((a: { name: string }) => a.name === 'create').description, 'Create (tuned)')
  const grade = list.apis.find((a: { name: string }) => a.name === 'grade')
  t.same(grade, {
    name: 'grade',
    method: 'PUT',
    path: '/v1/pricebook/{id}/{grade}',
    description: grade.description,
    parameters: [
      { name: 'id', in: 'body', required: true, description: 'Pricebook id' },
      { name: 'grade', in: 'body', required: true, description: 'Grade name' }
    ]
  })
})

t.test('invalid operation configs stop boot with a clear message', async (t) => {
  const dir = await tempDir(t)
  const configDir = path.join(dir, 'config')
  await mkdir(configDir)
  await writeFile(path.join(configDir, 'broken.json'), JSON.stringify({ method: 'FETCH', path: '/v1/x' }))
  await writeFile(path.join(configDir, 'list.json'), JSON.stringify({ method: 'GET', path: '/v1/x' }))
  await writeFile(path.join(configDir, 'bad-json.json'), '{ nope')
  await t.rejects(buildGateway(t, { dir }), /bad-json\.json: not valid JSON/)
  await writeFile(path.join(configDir, 'bad-json.json'), JSON.stringify({ method: 'GET', path: '/v1/../auth/signin' }))
  const err = await buildGateway(t, { dir }).then(
    () => undefined,
    (e: Error) => e
  )
  t.match(err?.message, /broken\.json: "method" must be one of/)
  t.match(err?.message, /list\.json: name "list" is reserved/)
  t.match(err?.message, /bad-json\.json: path .* dot segments/)
})

t.test('GET /api/list and the OpenAPI document describe the operations', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const list = (await app.inject({ method: 'GET', url: '/api/list' })).json()
  t.same(
    list.apis.map((a: { name: string; method: string; path: string }) => [a.name, a.method, a.path]),
    [
      ['create', 'POST', '/v1/asset/create'],
      ['create-request', 'POST', '/v1/asset/request'],
      ['edit-asset-id', 'PUT', '/v1/asset/{id}'],
      ['get-all', 'GET', '/v1/asset'],
      ['get-asset-id', 'GET', '/v1/asset/{id}'],
      ['grade', 'PUT', '/v1/pricebook/{id}/{grade}']
    ]
  )
  t.notOk(list.apis.some((a: { name: string }) => a.name === 'auth-signin'), 'sign-in is not a pass-through operation')
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  t.ok(doc.paths['/api/get-asset-id'].get)
  t.ok(doc.paths['/api/grade'].put.requestBody)
  t.ok(doc.paths['/api/auth'].post)
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.ok(ui.statusCode === 200 || ui.statusCode === 302)
})

t.test('x-request-id is accepted, forwarded upstream and returned', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const res = await app.inject({ method: 'GET', url: '/api/get-all', headers: { 'x-request-id': 'trace-abc.123' } })
  t.equal(res.headers['x-request-id'], 'trace-abc.123')
  t.equal(sim.callsTo('GET', '/v1/asset')[0]?.requestId, 'trace-abc.123')
  const forged = await app.inject({ method: 'GET', url: '/api/get-all', headers: { 'x-request-id': 'bad id\nwith newline' } })
  t.match(forged.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unsafe id is replaced')
})

t.test("every log line of a request carries its id, and only that request's", async (t) => {
  const sim = await startSimulator(t)
  const logs = new LogCapture()
  const { app } = await buildGateway(t, { sim, logs })
  await app.inject({ method: 'GET', url: '/api/get-all', headers: { 'x-request-id': 'trace-one' } })
  await app.inject({ method: 'GET', url: '/api/nope', headers: { 'x-request-id': 'trace-two' } })
  const lines = logs.lines.map((l) => JSON.parse(l) as { reqId?: string; msg?: string })
  const one = lines.filter((l) => l.reqId === 'trace-one').map((l) => l.msg)
  const two = lines.filter((l) => l.reqId === 'trace-two').map((l) => l.msg)
  t.ok(one.includes('incoming request') && one.includes('request completed'), `trace-one: ${one.join(', ')}`)
  t.ok(two.includes('incoming request') && two.includes('request completed'), `trace-two: ${two.join(', ')}`)
  const later = lines.filter((l) => l.msg === 'incoming request' && l.reqId === undefined)
  t.equal(later.length, 0, 'no request line without an id')
})

t.test('writes over a real socket reach upstream (the request body ending is not the client leaving)', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const res = await fetch(`${address}/api/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'over the wire' })
  })
  t.equal(res.status, 201)
  t.equal(((await res.json()) as { data: { name: string } }).data.name, 'over the wire')
  t.equal(sim.callsTo('POST', '/v1/asset/create').length, 1)
})

t.test('a client that disconnects aborts its upstream call', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  await fetch(`${address}/api/get-all`)
  sim.settings.latencyMs = 60_000
  const upstreamClosed = new Promise<void>((resolve) => {
    sim.onRequestClosed = resolve
  })
  const controller = new AbortController()
  const pending = fetch(`${address}/api/get-all`, { signal: controller.signal }).catch((err: Error) => err)
  await sim.nextRequest()
  controller.abort()
  t.match(await pending, { name: 'AbortError' })
  await upstreamClosed
  t.pass('the gateway tore down its upstream request')
})
