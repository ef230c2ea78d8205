import t from 'tap'
import { DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { createFlow, logsOf, runFlow, waitFinal } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend, type FlowRunner, type TestUser } from '../helpers/flowrunner.js'
import { startSimulator } from '../helpers/gateway.js'

// Issue 19 (7): `evercycle` nodes call Evercycle as the service identity, so which operations a flow may call
// is decided by its owner's role: users get FLOWRUNNER_EVERCYCLE_OPERATIONS (default: the GET operations),
// admins everything. Checked when a flow is saved and again when its node runs.

function flow(operation: string, extra = ''): string {
  return `
metadata: { name: "calls ${operation}" }
nodes:
  start:
    type: evercycle
    params:
      operation: ${operation}
${extra}`
}

const EDIT = flow('edit-asset-id', '      body: { id: 1002, name: renamed }\n    retry: { max_attempts: 3, backoff_ms: 5 }\n')

function save(fr: FlowRunner, user: TestUser, definition: string): ReturnType<FlowRunner['request']> {
  return fr.request('POST', '/api/v1/flows', { token: user.token, body: { definition } })
}

async function promote(fr: FlowRunner, label: string): Promise<TestUser> {
  const user = await fr.createUser(label)
  const res = await fr.request('PUT', `/api/v1/accounts/${user.id}`, { token: fr.admin.token, body: { role: 'admin' } })
  if (res.statusCode !== 200) throw new Error(`promoting ${user.email} failed: ${res.statusCode}`)
  return user
}

eachBackend('by default a user’s flows may call only GET operations; admins any; judged by the owner', async (t, backend) => {
  const sim = await startSimulator(t)
  const fr = await buildFlowRunner(t, { backend, sim })
  const user = await fr.createUser('plain')

  const refused = await save(fr, user, EDIT)
  t.equal(refused.statusCode, 422, 'a write operation in a user’s flow is refused when saved')
  const error = refused.json().error
  t.equal(error.code, 'validation_error')
  t.equal(error.details.field, 'nodes.start.params.operation', 'naming the node’s path')
  t.match(error.details.reason, /edit-asset-id/)
  t.match(error.details.errors, [{ field: 'nodes.start.params.operation' }])
  for (const op of ['create', 'create-request', 'grade']) t.equal((await save(fr, user, flow(op))).statusCode, 422, op)
  for (const op of ['get-all', 'get-asset-id']) t.equal((await save(fr, user, flow(op))).statusCode, 201, `${op} is a GET`)

  // an update is judged by the flow's owner, whoever saves it
  const own = await save(fr, user, flow('get-all'))
  t.equal((await fr.request('PUT', `/api/v1/flows/${own.json().id}`, { token: user.token, body: { definition: EDIT } })).statusCode, 422)
  const byAdmin = await fr.request('PUT', `/api/v1/flows/${own.json().id}`, { token: fr.admin.token, body: { definition: EDIT } })
  t.equal(byAdmin.statusCode, 422, 'an admin cannot give a user’s flow a write operation either')
  t.equal(byAdmin.json().error.details.field, 'nodes.start.params.operation')
  t.equal((await fr.request('PUT', `/api/v1/flows/${own.json().id}`, { token: user.token, body: { tags: ['kept'] } })).statusCode, 200)

  // an admin's own flow may write, and runs as the service identity
  const adminFlow = await createFlow(fr, fr.admin.token, EDIT)
  sim.reset()
  const done = await waitFinal(fr, fr.admin.token, await runFlow(fr, fr.admin.token, adminFlow))
  t.equal(done.status, 'completed')
  const puts = sim.callsTo('PUT', '/v1/asset/1002')
  t.equal(puts.length, 1)
  t.equal(puts[0]?.user, DEMO_USERNAME)
})

eachBackend('a flow whose owner lost the right fails that node as forbidden at run time, without retries', async (t, backend) => {
  const sim = await startSimulator(t)
  const fr = await buildFlowRunner(t, { backend, sim })
  const boss = await promote(fr, 'boss')
  const flowId = await createFlow(fr, boss.token, EDIT)
  const readOnly = await createFlow(fr, boss.token, flow('get-all'))

  const demoted = await fr.request('PUT', `/api/v1/accounts/${boss.id}`, { token: fr.admin.token, body: { role: 'user' } })
  t.equal(demoted.statusCode, 200)

  sim.reset()
  const id = await runFlow(fr, boss.token, flowId)
  const done = await waitFinal(fr, boss.token, id)
  t.equal(done.status, 'failed')
  t.match(done.error, /forbidden/i)
  t.match(done.error, /edit-asset-id/)
  t.equal(sim.callsTo('PUT', '/v1/asset/1002').length, 0, 'nothing was sent to Evercycle')
  const started = (await logsOf(fr, boss.token, id)).filter((l) => l.message === 'Node started')
  t.equal(started.length, 1, 'a forbidden operation is not retried')

  // the admin running the demoted user's flow doesn't lend it the admin's rights
  const byAdmin = await waitFinal(fr, fr.admin.token, await runFlow(fr, fr.admin.token, flowId))
  t.equal(byAdmin.status, 'failed')
  t.match(byAdmin.error, /forbidden/i)
  t.equal(sim.callsTo('PUT', '/v1/asset/1002').length, 0)

  // what the user may still call keeps working
  t.equal((await waitFinal(fr, boss.token, await runFlow(fr, boss.token, readOnly))).status, 'completed')
})

t.test('FLOWRUNNER_EVERCYCLE_OPERATIONS lists what users’ flows may call; `*` allows all', async (t) => {
  const sim = await startSimulator(t)
  await t.test('a list replaces the default', async (t) => {
    const fr = await buildFlowRunner(t, { backend: 'pglite', sim, env: { FLOWRUNNER_EVERCYCLE_OPERATIONS: 'get-all, edit-asset-id' } })
    const user = await fr.createUser()
    const allowed = await save(fr, user, EDIT)
    t.equal(allowed.statusCode, 201, 'a listed write operation')
    t.equal((await save(fr, user, flow('get-all'))).statusCode, 201)
    t.equal((await save(fr, user, flow('get-asset-id'))).statusCode, 422, 'a GET not in the list')
    t.equal((await save(fr, user, flow('grade'))).statusCode, 422)
    t.equal((await save(fr, fr.admin, flow('grade'))).statusCode, 201, 'admins are not bound by the list')
    sim.reset()
    const done = await waitFinal(fr, user.token, await runFlow(fr, user.token, allowed.json().id))
    t.equal(done.status, 'completed')
    t.equal(sim.callsTo('PUT', '/v1/asset/1002').length, 1)
  })
  await t.test('`*` allows every operation', async (t) => {
    const fr = await buildFlowRunner(t, { backend: 'pglite', sim, env: { FLOWRUNNER_EVERCYCLE_OPERATIONS: '*' } })
    const user = await fr.createUser()
    for (const op of ['edit-asset-id', 'grade', 'create', 'get-all']) t.equal((await save(fr, user, flow(op))).statusCode, 201, op)
  })
})
