import { createFlow, EventRecorder, getExecution, jobsSettled, logsOf, runFlow, runToEnd, waitFinal } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { startReceiver } from '../helpers/receiver.js'

// Cancel: the running node is aborted, nothing after it runs. One worker slot, so a second run queues.
eachBackend('cancel during a delay, a slow call, and while queued', async (t, backend) => {
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_CONCURRENCY: '1' } })
  const events = new EventRecorder(fr)
  const user = await fr.createUser('cancel')
  const base = receiver.url
  receiver.on('/after', { body: { reached: true } })

  const cancel = async (id: string): Promise<void> => {
    const res = await fr.request('DELETE', `/api/v1/executions/${id}`, { token: user.token })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { message: 'Execution cancelled successfully' })
  }

  await t.test('during a delay', async (t) => {
    const flowId = await createFlow(fr, user.token, `
metadata: { name: wait then call }
nodes:
  start:
    type: delay
    params: { duration: 2s }
    next: { default: call }
  call:
    type: webhook
    params: { url: "${base}/after", body: { from: delay } }
`)
    const id = await runFlow(fr, user.token, flowId)
    await events.nodeWaiting(id, 'start')
    t.match(await getExecution(fr, user.token, id), { status: 'waiting', node_id: undefined }, 'the delay is waiting')
    await cancel(id)
    const done = await waitFinal(fr, user.token, id)
    t.equal(done.status, 'cancelled')
    t.ok(done.completed_at !== null)
    t.match(events.events(id).at(-1), { type: 'execution_cancelled', execution_id: id, status: 'cancelled' })
    // the deferred step comes due and finds the execution cancelled
    await jobsSettled(fr, id)
    t.equal(receiver.to('/after').length, 0, 'the node after the delay never ran')
    const logs = await logsOf(fr, user.token, id)
    t.match(logs.at(-1), { level: 'info', message: 'Execution cancelled' })
    t.notOk(logs.some((l) => l.node_id === 'call'))
    t.notOk(events.events(id).some((e) => e.type === 'node_completed'), 'the delay never completed')

    const again = await fr.request('DELETE', `/api/v1/executions/${id}`, { token: user.token })
    t.equal(again.statusCode, 409)
    t.equal(again.json().error.code, 'conflict')
  })

  await t.test('a waiting execution holds no worker slot', async (t) => {
    const waiting = await createFlow(fr, user.token, `
metadata: { name: long wait }
nodes:
  start:
    type: delay
    params: { duration: 10m }
    next: { default: call }
  call:
    type: webhook
    params: { url: "${base}/after", body: { from: long wait } }
`)
    const id = await runFlow(fr, user.token, waiting)
    await events.nodeWaiting(id, 'start')
    // the only slot is free while it waits: another run goes through
    const other = await runToEnd(fr, user.token, `
metadata: { name: meanwhile }
nodes:
  start:
    type: transform
    params: { expression: '"done meanwhile"' }
`)
    t.equal(other.result, 'done meanwhile')
    t.equal((await getExecution(fr, user.token, id)).status, 'waiting', 'the delayed one is still waiting')
    await cancel(id)
  })

  await t.test('during a slow HTTP call, and a queued execution', async (t) => {
    receiver.on('/slow', { hang: true })
    const abortedBefore = receiver.aborted
    const flowId = await createFlow(fr, user.token, `
metadata: { name: slow then call }
nodes:
  start:
    type: http.request
    params: { url: "${base}/slow" }
    timeout: 1m
    next: { default: call, error: call }
  call:
    type: webhook
    params: { url: "${base}/after", body: { from: slow } }
`)
    const slow = await runFlow(fr, user.token, flowId)
    await receiver.arrival('/slow')
    // the step's job may stay claimed as long as the node may run: expiring it sooner would hand a node that is
    // still running to a second worker
    const [job] = await fr.sql<{ s: number }>(
      `SELECT extract(epoch FROM expire_in)::int AS s FROM ${fr.app.config.flowRunner.queueSchema}.job WHERE data->>'executionId' = $1 AND state = 'active'`,
      [slow]
    )
    t.ok((job?.s ?? 0) > 60, `the running step's job expires after ${job?.s} s, past the node's 1m timeout`)

    // the only worker slot is taken: the next run waits
    const queuedRes = await fr.request('POST', `/api/v1/flows/${flowId}/run`, { token: user.token, body: { input: {} } })
    t.equal(queuedRes.statusCode, 201)
    const queued = queuedRes.json() as { execution_id: string; status: string }
    t.equal(queued.status, 'queued')
    t.equal((await getExecution(fr, user.token, queued.execution_id)).status, 'queued')
    const listed = (await fr.request('GET', '/api/v1/executions?status=queued', { token: user.token })).json()
    t.same(listed.executions.map((e: { id: string }) => e.id), [queued.execution_id])
    t.equal((await fr.request('GET', '/api/v1/executions?status=running', { token: user.token })).json().executions[0].id, slow)
    await cancel(queued.execution_id)
    t.equal((await getExecution(fr, user.token, queued.execution_id)).status, 'cancelled')

    await cancel(slow)
    await receiver.abortion(abortedBefore + 1)
    t.pass('the in-flight request was torn down')
    const done = await waitFinal(fr, user.token, slow)
    t.equal(done.status, 'cancelled')
    await jobsSettled(fr, slow)
    await jobsSettled(fr, queued.execution_id)
    t.equal(receiver.to('/slow').length, 1, 'the queued execution never started')
    t.equal(receiver.to('/after').length, 0, 'neither the next node nor the error edge ran')
    t.notOk(events.events(slow).some((e) => e.type === 'node_completed'))
    t.notOk(events.events(queued.execution_id).some((e) => e.type === 'log' && e.message === 'Node started'))
  })

  // not about cancel, but this file has the one-slot engine a queued execution needs
  await t.test('a queued execution, once it starts, has its execution.started_at', async (t) => {
    let release: () => void = () => undefined
    receiver.on('/hold', { until: new Promise<void>((resolve) => (release = resolve)), body: {} })
    const holdFlow = await createFlow(fr, user.token, `
metadata: { name: holds the slot }
nodes:
  start:
    type: http.request
    params: { url: "${base}/hold" }
`)
    const holder = await runFlow(fr, user.token, holdFlow)
    await receiver.arrival('/hold')
    const stampFlow = await createFlow(fr, user.token, `
metadata: { name: reads its start }
nodes:
  start:
    type: transform
    params: { expression: '{"started_at": execution.started_at}' }
`)
    const res = await fr.request('POST', `/api/v1/flows/${stampFlow}/run`, { token: user.token, body: { input: {} } })
    const queued = res.json() as { execution_id: string; status: string }
    t.equal(queued.status, 'queued')
    release()
    t.equal((await waitFinal(fr, user.token, holder)).status, 'completed')
    const done = await waitFinal(fr, user.token, queued.execution_id)
    t.equal(done.status, 'completed')
    t.equal((done.result as { started_at?: unknown }).started_at, done.started_at, 'the expression saw the start the API reports')
  })
})
