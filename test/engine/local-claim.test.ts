import { randomUUID } from 'node:crypto'
import tap from 'tap'
import { createFlow, jobsSettled, logsOf, runFlow, waitFinal } from '../helpers/executions.js'
import { backendEnv, buildFlowRunner, eachBackend, type FlowRunner } from '../helpers/flowrunner.js'
import { openTestQueue } from '../helpers/queue.js'
import { startReceiver } from '../helpers/receiver.js'

/** A flow whose only node waits at the receiver until the test opens the gate. */
function gatedFlow(receiverUrl: string): string {
  return `
metadata: { name: gated }
nodes:
  start:
    type: http.request
    params: { url: "${receiverUrl}/slow", method: POST }
    timeout: 30s
`
}

function gate(): { open: () => void; opened: Promise<void> } {
  let open = (): void => undefined
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

/** The execution's jobs, oldest first: when each was created and completed (database clock). */
async function jobTimes(fr: FlowRunner, id: string): Promise<Array<{ created: string; completed: string | null }>> {
  const schema = fr.app.config.flowRunner.queueSchema
  return fr.sql<{ created: string; completed: string | null }>(
    `SELECT created_on::text AS created, completed_on::text AS completed FROM ${schema}.job WHERE data->>'executionId' = $1 ORDER BY created_on`,
    [id]
  )
}

async function jobStates(fr: FlowRunner, id: string): Promise<string[]> {
  const schema = fr.app.config.flowRunner.queueSchema
  const rows = await fr.sql<{ state: string }>(`SELECT state::text AS state FROM ${schema}.job WHERE data->>'executionId' = $1`, [id])
  return rows.map((r) => r.state)
}

eachBackend('a claimed job is the row pg-boss would send, already active: fetch never hands it out, complete() ends it', async (t, backend) => {
  const { driver, queue, schema } = await openTestQueue(t, backend)
  await queue.createQueue('claims')
  const sent = randomUUID()
  const claimed = randomUUID()
  // the options the engine sends its jobs with
  await queue.send('claims', { n: 1 }, { id: sent, expireInSeconds: 70, retryLimit: 5 })
  const insert = queue.claimedInsert('claims', { n: 1 }, { id: claimed, expireInSeconds: 70, retryLimit: 5 }, 1)
  await driver.query(insert.sql, insert.params)

  const { rows } = await driver.query<Record<string, unknown>>(
    `SELECT id::text, name, priority, data, state::text, retry_limit, retry_count, retry_delay, retry_backoff, singleton_key, singleton_on,
            expire_in::text, (keep_until - start_after)::text AS kept_for, dead_letter, policy, started_on IS NOT NULL AS started,
            start_after <= now() AS due, completed_on
       FROM ${schema}.job WHERE id IN ($1, $2)`,
    [sent, claimed]
  )
  const bySend = rows.find((r) => r.id === sent)
  const byClaim = rows.find((r) => r.id === claimed)
  t.same({ ...byClaim, id: undefined, state: undefined, started: undefined }, { ...bySend, id: undefined, state: undefined, started: undefined }, 'the same row as send()')
  t.match(bySend, { state: 'created', started: false })
  t.match(byClaim, { state: 'active', started: true })

  const fetched = await queue.fetch<{ n: number }>('claims', 10)
  t.same(fetched.map((j) => j.id), [sent], 'a fetch hands out only the unclaimed job')
  await queue.complete('claims', claimed)
  const after = await driver.query<{ state: string }>(`SELECT state::text AS state FROM ${schema}.job WHERE id = $1`, [claimed])
  t.equal(after.rows[0]?.state, 'completed')

  const missing = queue.claimedInsert('no-such-queue', { n: 1 }, { id: randomUUID(), expireInSeconds: 70, retryLimit: 5 }, 1)
  await t.rejects(driver.query(missing.sql, missing.params), 'a queue that does not exist fails the statement (and whatever it is part of)')
})

eachBackend('a run on a worker with a free slot is claimed in pg-boss as it is created, and runs to the end', async (t, backend) => {
  const receiver = await startReceiver(t)
  const { open, opened } = gate()
  receiver.on('/slow', { until: opened, status: 200, body: { ok: true } })
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_CONCURRENCY: '2' } })
  const token = fr.admin.token
  const flowId = await createFlow(fr, token, gatedFlow(receiver.url))

  const id = await runFlow(fr, token, flowId)
  // no fetch has had to find it: the job was inserted already active, in the run's own transaction
  t.same(await jobStates(fr, id), ['active'], 'the job is claimed when the run call returns')
  await receiver.arrival('/slow')
  t.equal(fr.app.engine.busy, 1, 'it holds one of this worker\'s slots')

  open()
  const done = await waitFinal(fr, token, id)
  t.equal(done.status, 'completed')
  t.match(done.result, { status_code: 200, body: { ok: true } })
  await jobsSettled(fr, id)
  t.same(await jobStates(fr, id), ['completed'], 'the claimed job is completed like a fetched one')
  const [ended] = await fr.sql<{ at: string }>('SELECT completed_at::text AS at FROM executions WHERE id = $1', [id])
  t.equal((await jobTimes(fr, id))[0]?.completed, ended?.at, 'by the statement that saved the end of the execution (one now())')
  const logs = await logsOf(fr, token, id)
  t.equal(logs.filter((l) => l.message === 'Execution started').length, 1, 'started once')
  t.equal(fr.app.engine.busy, 0)

  // a delay hands the execution to a deferred job: the first job is completed by the statement that saves the
  // delay's result together with the new job, and the new one by the statement that saves the last node
  const delayed = await createFlow(fr, token, `
metadata: { name: hands on }
nodes:
  wait:
    type: delay
    params: { duration: 10ms }
    next: { default: shape }
  shape:
    type: transform
    params: { expression: '{"ok": true}' }
`)
  const handed = await runFlow(fr, token, delayed)
  t.equal((await waitFinal(fr, token, handed)).status, 'completed')
  await jobsSettled(fr, handed)
  t.same(await jobStates(fr, handed), ['completed', 'completed'], 'two jobs, both completed')
  const [firstJob, secondJob] = await jobTimes(fr, handed)
  t.equal(firstJob?.completed, secondJob?.created, 'the first job ended in the transaction that created the second')
})

tap.test('replicas: executions started on one with free slots run there only; once it is full, the queue hands them to another', async (t) => {
  const receiver = await startReceiver(t)
  const { open, opened } = gate()
  receiver.on('/slow', { until: opened, status: 200, body: { ok: true } })
  // the idle replica polls often: without the claim it would have every chance to fetch the busy one's jobs
  const shared = {
    ...(await backendEnv(t, 'postgres')),
    FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`,
    FLOWRUNNER_CONCURRENCY: '2',
    // one account runs them all: its share of a replica's slots is all of them
    FLOWRUNNER_ACCOUNT_CONCURRENCY: '2',
    FLOWRUNNER_POLL_MS: '50'
  }
  const a = await buildFlowRunner(t, { backend: 'postgres', env: shared })
  const b = await buildFlowRunner(t, { backend: 'postgres', env: shared })
  const token = a.admin.token
  const flowId = await createFlow(a, token, gatedFlow(receiver.url))

  const first = [await runFlow(a, token, flowId), await runFlow(a, token, flowId)]
  await receiver.arrival('/slow', 2)
  t.equal(a.app.engine.busy, 2, 'the replica that started them runs both')
  t.equal(b.app.engine.busy, 0, 'the other never saw them unclaimed')

  // no slot left on a: this one is queued, and b's poll takes it
  const third = await runFlow(a, token, flowId)
  await receiver.arrival('/slow', 3)
  t.equal(a.app.engine.busy, 2)
  t.equal(b.app.engine.busy, 1, 'the queued execution went to the replica with a free slot')

  open()
  for (const id of [...first, third]) {
    const done = await waitFinal(a, token, id)
    t.equal(done.status, 'completed', `${id} completed`)
    await jobsSettled(a, id)
    t.same(await jobStates(a, id), ['completed'])
    t.equal((await logsOf(a, token, id)).filter((l) => l.message === 'Node started').length, 1, `${id} ran its node once`)
  }
  t.equal(receiver.to('/slow').length, 3, 'three executions, three calls')
})
