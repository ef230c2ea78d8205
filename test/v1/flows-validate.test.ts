import { ADMIN_PASSWORD, buildFlowRunner, eachBackend, simpleDefinition, type FlowRunner } from '../helpers/flowrunner.js'
import { LogCapture } from '../helpers/gateway.js'

async function flowCount(fr: FlowRunner): Promise<number> {
  const [row] = await fr.sql<{ n: number }>('SELECT count(*)::int AS n FROM flows')
  return row?.n ?? -1
}

/** POST /flows/validate and POST /flows with the same definition, as the admin. */
async function both(fr: FlowRunner, definition: string) {
  const validated = await fr.request('POST', '/api/v1/flows/validate', { token: fr.admin.token, body: { definition } })
  const created = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition } })
  return { validated, created }
}

const doc = (nodes: string): string => `metadata:\n  name: test\nnodes:\n${nodes}`

eachBackend('validate: a valid definition answers 200 with its outline and stores nothing', async (t, backend) => {
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs })
  const res = await fr.request('POST', '/api/v1/flows/validate', { token: fr.admin.token, body: { definition: simpleDefinition('Checked', '3.1.0') } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    valid: true,
    name: 'Checked',
    description: 'A simple flow',
    version: '3.1.0',
    start: 'start',
    nodes: [
      { id: 'start', type: 'http.request', next: { default: 'end' } },
      { id: 'end', type: 'webhook', next: {} }
    ],
    triggers: []
  })
  t.equal(await flowCount(fr), 0, 'no flow saved')
  t.same(await fr.sql('SELECT * FROM flow_revisions'), [], 'no revision saved')

  const user = await fr.createUser()
  const asUser = await fr.request('POST', '/api/v1/flows/validate', { token: user.token, body: { definition: simpleDefinition() } })
  t.equal(asUser.statusCode, 200, 'any account may validate')
  for (const secret of [ADMIN_PASSWORD, fr.admin.token, user.password, user.token]) t.notOk(logs.text.includes(secret), 'no password or token in the logs')
  t.ok(logs.lines.some((l) => l.includes('/api/v1/flows/validate')), 'the requests were logged')
})

eachBackend('validate: a YAML syntax error is the 422 POST /flows gives, line and column included', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  for (const definition of ['metadata:\n  name: x\nnodes:\n  a:\n    type: "unclosed\n', 'metadata:\n  name: x\nnodes: a: b\n']) {
    const { validated, created } = await both(fr, definition)
    t.equal(validated.statusCode, 422)
    t.equal(created.statusCode, 422)
    t.same(validated.json(), created.json(), 'the same error body')
    const details = validated.json().error.details
    t.equal(validated.json().error.code, 'validation_error')
    t.match(details, { field: 'definition', reason: /YAML syntax error/ })
    t.type(details.line, 'number')
    t.type(details.column, 'number')
  }
  t.equal(await flowCount(fr), 0)
})

eachBackend('validate: schema errors (unknown node type, bad next target) are the 422 POST /flows gives', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const unknownType = doc('  start:\n    type: teleport\n    params: {}\n')
  const badNext = doc('  start:\n    type: delay\n    params: { duration: 1 }\n    next: { default: nowhere }\n')
  const several = doc('  start:\n    type: delay\n    params: { duration: 1 }\n    next: { default: nowhere }\n  other:\n    type: teleport\n')
  for (const [label, definition, field, line] of [
    ['unknown type', unknownType, 'nodes.start.type', 5],
    ['bad next target', badNext, 'nodes.start.next.default', 7],
    ['several problems', several, 'nodes.start.next.default', 7]
  ] as const) {
    const { validated, created } = await both(fr, definition)
    t.equal(validated.statusCode, 422, label)
    t.equal(created.statusCode, 422, label)
    t.same(validated.json(), created.json(), `${label}: the same error body`)
    t.match(validated.json().error.details, { field, line, column: Number }, label)
  }
  t.equal((await both(fr, several)).validated.json().error.details.errors.length, 2, 'every problem listed')
  t.equal(await flowCount(fr), 0)
})

eachBackend('validate: 401 without a token, 400 in FlowRunner shape without a definition, the same size limit', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const anonymous = await fr.request('POST', '/api/v1/flows/validate', { body: { definition: simpleDefinition() } })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().error.code, 'unauthorized')

  for (const body of [{}, { definition: '' }, { defintion: simpleDefinition() }]) {
    const res = await fr.request('POST', '/api/v1/flows/validate', { token: fr.admin.token, body })
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.same(Object.keys(res.json()), ['error'])
    t.same(Object.keys(res.json().error).sort(), ['code', 'details', 'message'])
    t.equal(res.json().error.code, 'invalid_request')
  }

  const huge = `${simpleDefinition()}# ${'x'.repeat(262_144)}\n`
  const { validated, created } = await both(fr, huge)
  t.equal(validated.statusCode, created.statusCode, 'too long for one is too long for the other')
  t.equal(validated.json().error.code, created.json().error.code)
})

eachBackend('validate is no /flows/:id route: GET /flows/validate is a flow not found, and a flow may be called "validate"', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const got = await fr.request('GET', '/api/v1/flows/validate', { token: fr.admin.token })
  t.equal(got.statusCode, 404)
  t.equal(got.json().error.code, 'not_found')
  t.equal((await fr.request('PUT', '/api/v1/flows/validate', { token: fr.admin.token, body: { tags: ['x'] } })).statusCode, 404)
  const created = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { name: 'validate', definition: simpleDefinition() } })
  t.equal(created.statusCode, 201)
  t.equal((await fr.request('GET', `/api/v1/flows/${created.json().id}`, { token: fr.admin.token })).statusCode, 200)
})

eachBackend('validate is rate limited per account, in FlowRunner shape', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  const body = { definition: doc('  start:\n    type: delay\n    params: { duration: 1 }\n') }
  let last = await fr.request('POST', '/api/v1/flows/validate', { token: user.token, body })
  t.equal(last.headers['x-ratelimit-limit'], '120')
  for (let i = 1; i < 120; i++) last = await fr.request('POST', '/api/v1/flows/validate', { token: user.token, body })
  t.equal(last.statusCode, 200, 'the 120th in a minute passes')
  const refused = await fr.request('POST', '/api/v1/flows/validate', { token: user.token, body })
  t.equal(refused.statusCode, 429)
  t.equal(refused.json().error.code, 'rate_limited')
  t.ok(Number(refused.headers['retry-after']) >= 1)
  const other = await fr.request('POST', '/api/v1/flows/validate', { token: fr.admin.token, body })
  t.equal(other.statusCode, 200, 'another account from the same address has its own count')
})

eachBackend("validate judges as the caller's own create: a user's flow may not call a write operation, an admin's may", async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  const definition = doc('  start:\n    type: evercycle\n    params: { operation: create }\n')
  for (const [who, token, status] of [
    ['user', user.token, 422],
    ['admin', fr.admin.token, 200]
  ] as const) {
    const validated = await fr.request('POST', '/api/v1/flows/validate', { token, body: { definition } })
    const created = await fr.request('POST', '/api/v1/flows', { token, body: { definition } })
    t.equal(validated.statusCode, status, who)
    t.equal(created.statusCode, status === 200 ? 201 : 422, who)
    if (status === 422) {
      t.same(validated.json(), created.json(), `${who}: the same error body`)
      t.match(validated.json().error.details, { field: 'nodes.start.params.operation', reason: /forbidden/ })
    }
  }
})
