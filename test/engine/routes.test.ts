import { eachBackend, buildFlowRunner } from '../helpers/flowrunner.js'
import { createFlow, getExecution, logsOf, runFlow, waitFinal } from '../helpers/executions.js'

const TWO_STEPS = `
metadata:
  name: Two steps
nodes:
  start:
    type: transform
    params:
      expression: '{"doubled": input.n * 2}'
    next:
      default: finish
  finish:
    type: transform
    params:
      expression: '{"result": nodes.start.doubled + 1, "who": input.who}'
`

eachBackend('run, get, list, logs, cancel and ownership', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const alice = await fr.createUser('alice')
  const bob = await fr.createUser('bob')
  const flowId = await createFlow(fr, alice.token, TWO_STEPS)

  const run = await fr.request('POST', `/api/v1/flows/${flowId}/run`, { token: alice.token, body: { input: { n: 20, who: 'alice' } } })
  t.equal(run.statusCode, 201)
  const started = run.json() as { execution_id: string; flow_id: string; status: string; created_at: string }
  t.same(Object.keys(started).sort(), ['created_at', 'execution_id', 'flow_id', 'status'])
  t.equal(started.flow_id, flowId)
  t.ok(['running', 'queued'].includes(started.status))

  const done = await waitFinal(fr, alice.token, started.execution_id)
  t.equal(done.status, 'completed')
  t.same(done.input, { n: 20, who: 'alice' })
  t.same(done.result, { result: 41, who: 'alice' })
  t.equal(done.flow_version, 1)
  t.ok(done.started_at !== null && done.completed_at !== null)
  t.equal(done.duration, Date.parse(done.completed_at ?? '') - Date.parse(done.started_at ?? ''))

  // editing the flow changes nothing for existing executions; new runs use the new revision
  const edit = await fr.request('PUT', `/api/v1/flows/${flowId}`, {
    token: alice.token,
    body: { definition: TWO_STEPS.replace('input.n * 2', 'input.n * 3') }
  })
  t.equal(edit.statusCode, 200)
  const second = await waitFinal(fr, alice.token, await runFlow(fr, alice.token, flowId, { n: 20 }))
  t.same(second.result, { result: 61 })
  t.equal(second.flow_version, 2)
  t.same((await getExecution(fr, alice.token, started.execution_id)).result, { result: 41, who: 'alice' })

  const logs = await logsOf(fr, alice.token, started.execution_id)
  t.same(
    logs.map((l) => [l.level, l.message, l.node_id]),
    [
      ['info', 'Execution started', 'start'],
      ['info', 'Node started', 'start'],
      ['info', 'Node completed', 'start'],
      ['info', 'Node started', 'finish'],
      ['info', 'Node completed', 'finish'],
      ['info', 'Execution completed', 'finish']
    ]
  )
  t.equal(typeof (logs[2]?.data as { duration_ms: number }).duration_ms, 'number')
  t.equal(logs[1]?.node_type, 'transform')
  const paged = (await fr.request('GET', `/api/v1/executions/${started.execution_id}/logs?limit=2&offset=1`, { token: alice.token })).json()
  t.equal(paged.total, 6)
  t.equal(paged.limit, 2)
  t.equal(paged.offset, 1)
  t.same(paged.logs.map((l: { message: string }) => l.message), ['Node started', 'Node completed'])
  t.same(await logsOf(fr, alice.token, started.execution_id, '&level=warn'), [])

  const list = (await fr.request('GET', '/api/v1/executions', { token: alice.token })).json()
  t.equal(list.total, 2)
  t.equal(list.limit, 10)
  t.equal(list.offset, 0)
  t.equal(list.executions[0].flow_version, 2, 'newest first')
  t.same(Object.keys(list.executions[0]).sort(), ['completed_at', 'duration', 'flow_id', 'flow_version', 'id', 'item_index', 'parent_id', 'rerun_of', 'started_at', 'status', 'trigger'])
  t.equal((await fr.request('GET', `/api/v1/executions?flow_id=${flowId}&status=completed`, { token: alice.token })).json().total, 2)
  t.equal((await fr.request('GET', '/api/v1/executions?status=failed', { token: alice.token })).json().total, 0)
  t.equal((await fr.request('GET', '/api/v1/executions?status=bogus', { token: alice.token })).statusCode, 400)

  // bob sees none of it, on every route
  t.equal((await fr.request('GET', '/api/v1/executions', { token: bob.token })).json().total, 0)
  for (const [method, url] of [
    ['GET', `/api/v1/executions/${started.execution_id}`],
    ['GET', `/api/v1/executions/${started.execution_id}/logs`],
    ['DELETE', `/api/v1/executions/${started.execution_id}`],
    ['POST', `/api/v1/flows/${flowId}/run`]
  ] as const) {
    const res = await fr.request(method, url, { token: bob.token, ...(method === 'POST' ? { body: {} } : {}) })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.equal(res.json().error.code, 'not_found')
  }
  // admins see all
  t.equal((await fr.request('GET', '/api/v1/executions', { token: fr.admin.token })).json().total, 2)
  t.equal((await fr.request('GET', `/api/v1/executions/${started.execution_id}`, { token: fr.admin.token })).statusCode, 200)

  // cancelling a finished execution is a conflict
  const conflict = await fr.request('DELETE', `/api/v1/executions/${started.execution_id}`, { token: alice.token })
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.json().error.code, 'conflict')
  t.equal((await fr.request('GET', '/api/v1/executions/exec-none', { token: alice.token })).statusCode, 404)
  t.equal((await fr.request('GET', '/api/v1/executions')).statusCode, 401)
  t.equal((await fr.request('POST', '/api/v1/flows/flow-none/run', { token: alice.token, body: {} })).statusCode, 404)
})
