import { buildFlowRunner, eachBackend, simpleDefinition } from '../helpers/flowrunner.js'

const FLOW_KEYS = ['created_at', 'description', 'id', 'name', 'tags', 'updated_at', 'version']

eachBackend('flows: create (201), get with definition, list; the documented shapes', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const definition = simpleDefinition()
  const created = await fr.request('POST', '/api/v1/flows', {
    token: fr.admin.token,
    body: { name: 'My Flow', description: 'A simple flow', definition, tags: ['production'] }
  })
  t.equal(created.statusCode, 201)
  const flow = created.json()
  t.same(Object.keys(flow).sort(), FLOW_KEYS)
  t.match(flow, { name: 'My Flow', description: 'A simple flow', version: '1.0.0', tags: ['production'] })
  t.match(flow.id, /^flow-/)
  t.equal(flow.created_at, flow.updated_at)

  const got = await fr.request('GET', `/api/v1/flows/${flow.id}`, { token: fr.admin.token })
  t.equal(got.statusCode, 200)
  t.same(Object.keys(got.json()).sort(), [...FLOW_KEYS, 'definition'].sort())
  t.equal(got.json().definition, definition, 'the YAML comes back as it was sent')

  const list = await fr.request('GET', '/api/v1/flows', { token: fr.admin.token })
  t.equal(list.statusCode, 200)
  t.same(list.json(), { flows: [flow], total: 1, limit: 10, offset: 0 })
})

eachBackend('name and description default to the definition metadata', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const res = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition: simpleDefinition('From Metadata', '2.0.0') } })
  t.equal(res.statusCode, 201)
  t.match(res.json(), { name: 'From Metadata', description: 'A simple flow', version: '2.0.0', tags: [] })
  const noVersion = await fr.request('POST', '/api/v1/flows', {
    token: fr.admin.token,
    body: { definition: 'metadata:\n  name: bare\nnodes:\n  only:\n    type: delay\n    params:\n      duration: 5s\n' }
  })
  t.equal(noVersion.statusCode, 201)
  t.match(noVersion.json(), { name: 'bare', description: '', version: null })
})

eachBackend('list filters by tag and paginates with limit (max 100) and offset', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const tags = [['production'], ['development'], ['production', 'billing'], []]
  const ids: string[] = []
  for (const [i, tagList] of tags.entries()) {
    const res = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { name: `Flow ${i}`, definition: simpleDefinition(), tags: tagList } })
    ids.push(res.json().id)
  }
  const prod = (await fr.request('GET', '/api/v1/flows?tag=production', { token: fr.admin.token })).json()
  t.equal(prod.total, 2)
  t.same(prod.flows.map((f: { id: string }) => f.id), [ids[0], ids[2]])
  t.equal((await fr.request('GET', '/api/v1/flows?tag=billing', { token: fr.admin.token })).json().total, 1)
  t.same((await fr.request('GET', '/api/v1/flows?tag=nothing', { token: fr.admin.token })).json(), { flows: [], total: 0, limit: 10, offset: 0 })

  const page = (await fr.request('GET', '/api/v1/flows?limit=2&offset=1', { token: fr.admin.token })).json()
  t.match(page, { total: 4, limit: 2, offset: 1 })
  t.same(page.flows.map((f: { id: string }) => f.id), [ids[1], ids[2]])
  t.equal((await fr.request('GET', '/api/v1/flows?limit=101', { token: fr.admin.token })).json().limit, 100)
  t.equal((await fr.request('GET', '/api/v1/flows?offset=10', { token: fr.admin.token })).json().flows.length, 0)
  for (const q of ['limit=0', 'offset=-2', 'limit=x']) {
    const bad = await fr.request('GET', `/api/v1/flows?${q}`, { token: fr.admin.token })
    t.equal(bad.statusCode, 400, q)
    t.equal(bad.json().error.code, 'invalid_request', q)
  }
})

eachBackend('every save keeps an immutable version; versions are listed newest first', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const v1 = simpleDefinition('My Flow', '1.0.0')
  const flow = (await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition: v1, tags: ['production'] } })).json()

  const v2 = simpleDefinition('Updated Flow', '1.0.1')
  const updated = await fr.request('PUT', `/api/v1/flows/${flow.id}`, {
    token: fr.admin.token,
    body: { name: 'Updated Flow', description: 'An updated flow', definition: v2, tags: ['production', 'updated'] }
  })
  t.equal(updated.statusCode, 200)
  t.same(Object.keys(updated.json()).sort(), FLOW_KEYS)
  t.match(updated.json(), { id: flow.id, name: 'Updated Flow', description: 'An updated flow', version: '1.0.1', tags: ['production', 'updated'] })
  t.equal(updated.json().created_at, flow.created_at)
  t.ok(Date.parse(updated.json().updated_at) >= Date.parse(flow.updated_at))

  // a change of tags alone keeps the definition and still records a version
  const retagged = await fr.request('PUT', `/api/v1/flows/${flow.id}`, { token: fr.admin.token, body: { tags: ['archived'] } })
  t.match(retagged.json(), { name: 'Updated Flow', version: '1.0.1', tags: ['archived'] })
  t.equal((await fr.request('GET', `/api/v1/flows/${flow.id}`, { token: fr.admin.token })).json().definition, v2)

  const versions = await fr.request('GET', `/api/v1/flows/${flow.id}/versions`, { token: fr.admin.token })
  t.equal(versions.statusCode, 200)
  const body = versions.json()
  t.match(body, { total: 3, limit: 10, offset: 0 })
  t.same(body.versions.map((v: { revision: number; version: string; tags: string[] }) => [v.revision, v.version, v.tags]), [
    [3, '1.0.1', ['archived']],
    [2, '1.0.1', ['production', 'updated']],
    [1, '1.0.0', ['production']]
  ])
  t.same(Object.keys(body.versions[0]).sort(), ['author_id', 'created_at', 'description', 'name', 'revision', 'tags', 'version'])
  t.equal(body.versions[0].author_id, fr.admin.id)

  const first = await fr.request('GET', `/api/v1/flows/${flow.id}/versions/1`, { token: fr.admin.token })
  t.equal(first.statusCode, 200)
  t.match(first.json(), { revision: 1, name: 'My Flow', version: '1.0.0', definition: v1 })
  t.equal((await fr.request('GET', `/api/v1/flows/${flow.id}/versions?limit=1&offset=2`, { token: fr.admin.token })).json().versions[0].revision, 1)
  t.equal((await fr.request('GET', `/api/v1/flows/${flow.id}/versions/9`, { token: fr.admin.token })).statusCode, 404)
  t.equal((await fr.request('GET', `/api/v1/flows/${flow.id}/versions/one`, { token: fr.admin.token })).statusCode, 400)
  t.equal((await fr.request('GET', '/api/v1/flows/flow-nope/versions', { token: fr.admin.token })).statusCode, 404)

  const spec = await fr.sql<{ spec: { start: string; nodes: Record<string, { params: { method: string } }> } }>(
    'SELECT spec FROM flow_revisions WHERE flow_id = $1 AND revision = 1',
    [flow.id]
  )
  t.equal(spec[0]?.spec.start, 'start', 'the validated spec is stored for the engine')
  t.equal(spec[0]?.spec.nodes.end?.params.method, 'POST')
})

eachBackend('delete removes the flow and its versions', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const flow = (await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition: simpleDefinition() } })).json()
  await fr.request('PUT', `/api/v1/flows/${flow.id}`, { token: fr.admin.token, body: { tags: ['a'] } })
  const res = await fr.request('DELETE', `/api/v1/flows/${flow.id}`, { token: fr.admin.token })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { message: 'Flow deleted successfully' })
  t.equal((await fr.request('GET', `/api/v1/flows/${flow.id}`, { token: fr.admin.token })).statusCode, 404)
  t.equal((await fr.request('DELETE', `/api/v1/flows/${flow.id}`, { token: fr.admin.token })).statusCode, 404)
  t.equal((await fr.request('PUT', `/api/v1/flows/${flow.id}`, { token: fr.admin.token, body: { tags: [] } })).statusCode, 404)
  t.same(await fr.sql('SELECT revision FROM flow_revisions WHERE flow_id = $1', [flow.id]), [])
})

eachBackend("users never see each other's flows (404); admins see all", async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const alice = await fr.createUser('alice')
  const bob = await fr.createUser('bob')
  const flow = (await fr.request('POST', '/api/v1/flows', { token: alice.token, body: { definition: simpleDefinition(), tags: ['shared'] } })).json()

  t.same((await fr.request('GET', '/api/v1/flows', { token: bob.token })).json(), { flows: [], total: 0, limit: 10, offset: 0 })
  t.equal((await fr.request('GET', '/api/v1/flows?tag=shared', { token: bob.token })).json().total, 0)
  for (const [method, url, body] of [
    ['GET', `/api/v1/flows/${flow.id}`, undefined],
    ['PUT', `/api/v1/flows/${flow.id}`, { name: 'stolen' }],
    ['DELETE', `/api/v1/flows/${flow.id}`, undefined],
    ['GET', `/api/v1/flows/${flow.id}/versions`, undefined],
    ['GET', `/api/v1/flows/${flow.id}/versions/1`, undefined]
  ] as const) {
    const res = await fr.request(method, url, { token: bob.token, body })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.equal(res.json().error.code, 'not_found')
  }
  t.equal((await fr.request('GET', `/api/v1/flows/${flow.id}`, { token: alice.token })).json().name, 'My Flow', 'untouched by bob')

  const own = (await fr.request('POST', '/api/v1/flows', { token: bob.token, body: { definition: simpleDefinition('Bob Flow') } })).json()
  t.same((await fr.request('GET', '/api/v1/flows', { token: alice.token })).json().flows.map((f: { id: string }) => f.id), [flow.id])
  const all = (await fr.request('GET', '/api/v1/flows', { token: fr.admin.token })).json()
  t.same(all.flows.map((f: { id: string }) => f.id), [flow.id, own.id], 'admins see every flow')
  t.equal((await fr.request('GET', `/api/v1/flows/${flow.id}`, { token: fr.admin.token })).statusCode, 200)
})

eachBackend('flow routes need a token; malformed bodies are 400', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  for (const [method, url] of [
    ['GET', '/api/v1/flows'],
    ['POST', '/api/v1/flows'],
    ['GET', '/api/v1/flows/x'],
    ['PUT', '/api/v1/flows/x'],
    ['DELETE', '/api/v1/flows/x'],
    ['GET', '/api/v1/flows/x/versions'],
    ['GET', '/api/v1/flows/x/versions/1']
  ] as const) {
    const res = await fr.request(method, url)
    t.equal(res.statusCode, 401, `${method} ${url}`)
    t.same(Object.keys(res.json()), ['error'])
  }
  const noDefinition = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { name: 'x' } })
  t.equal(noDefinition.statusCode, 400)
  t.same(noDefinition.json().error.details.field, 'definition')
  const badTags = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition: simpleDefinition(), tags: 'production' } })
  t.equal(badTags.statusCode, 201, 'a single tag is accepted as a one-item list (coercion)')
  t.same(badTags.json().tags, ['production'])
  const emptyTag = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition: simpleDefinition(), tags: [''] } })
  t.equal(emptyTag.statusCode, 400)
  t.equal(emptyTag.json().error.details.field, 'tags.0')
  t.equal((await fr.request('PUT', '/api/v1/flows/x', { token: fr.admin.token, body: {} })).statusCode, 400)
})

eachBackend('invalid definitions are 422 validation_error naming the field', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const post = (definition: string) => fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition } })

  const syntax = await post('metadata:\n  name: "x"\nnodes:\n  start:\n    type: [unclosed\n')
  t.equal(syntax.statusCode, 422)
  const err = syntax.json().error
  t.equal(err.code, 'validation_error')
  t.equal(err.details.field, 'definition')
  t.match(err.details.reason, /YAML syntax error/)
  t.equal(typeof err.details.line, 'number')
  t.equal(typeof err.details.column, 'number')
  t.ok(Array.isArray(err.details.errors))

  const unknownType = await post('metadata:\n  name: x\nnodes:\n  start:\n    type: email.send\n')
  t.equal(unknownType.statusCode, 422)
  t.match(unknownType.json().error.details, { field: 'nodes.start.type', line: 5, column: 11 })
  t.match(unknownType.json().error.details.reason, /unknown node type "email.send"/)

  const dangling = await post(simpleDefinition().replace('default: "end"', 'default: "finish"'))
  t.equal(dangling.statusCode, 422)
  t.match(dangling.json().error.details, { field: 'nodes.start.next.default', reason: /"finish"/ })

  const noStart = await post(
    'metadata:\n  name: loop\nnodes:\n  a:\n    type: delay\n    params: { duration: 1s }\n    next: { default: b }\n  b:\n    type: delay\n    params: { duration: 1s }\n    next: { default: a }\n'
  )
  t.equal(noStart.statusCode, 422)
  t.match(noStart.json().error.details, { field: 'metadata.start', reason: /no start node/ })

  const badUrl = await post(simpleDefinition().replace('https://api.example.com/data', 'not a url'))
  t.equal(badUrl.statusCode, 422)
  t.match(badUrl.json().error.details, { field: 'nodes.start.params.url', line: 10 })

  const unknownOp = await post('metadata:\n  name: x\nnodes:\n  start:\n    type: evercycle\n    params:\n      operation: no-such-op\n')
  t.match(unknownOp.json().error.details, { field: 'nodes.start.params.operation', reason: /unknown Evercycle operation/ })
  const knownOp = await post('metadata:\n  name: x\nnodes:\n  start:\n    type: evercycle\n    params:\n      operation: get-all\n')
  t.equal(knownOp.statusCode, 201, 'operations are checked against the gateway registry')

  const badExpression = await post(simpleDefinition().replace('https://api.example.com/data', 'https://api.example.com/${input.id +}'))
  t.match(badExpression.json().error.details, { field: 'nodes.start.params.url', reason: /Invalid expression/ })

  const several = await post('metadata:\n  name: x\nnodes:\n  start:\n    type: http.request\n    params: {}\n    next: { default: gone }\n')
  t.same(
    several.json().error.details.errors.map((e: { field: string }) => e.field).sort(),
    ['nodes.start.next.default', 'nodes.start.params.url'],
    'every problem is reported at once'
  )

  const update = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition: simpleDefinition() } })
  const badUpdate = await fr.request('PUT', `/api/v1/flows/${update.json().id}`, { token: fr.admin.token, body: { definition: 'nodes: {}' } })
  t.equal(badUpdate.statusCode, 422, 'updates are validated too')
  t.same(await fr.sql('SELECT revision FROM flow_revisions WHERE flow_id = $1', [update.json().id]), [{ revision: 1 }], 'and a rejected update records nothing')
})
