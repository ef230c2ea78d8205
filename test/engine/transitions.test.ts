import { randomUUID } from 'node:crypto'
import type { NodeSpec } from '../../src/flows/definition-schema.js'
import { ExecutionEvents, type ExecutionEvent } from '../../src/flows/engine/events.js'
import { finalEvent, logLine } from '../../src/flows/engine/records.js'
import { StepJobs, type OutgoingJob } from '../../src/flows/engine/step-jobs.js'
import { Children } from '../../src/flows/engine/children.js'
import { SpecCache } from '../../src/flows/engine/spec-cache.js'
import { Transitions, type Advance } from '../../src/flows/engine/transitions.js'
import { Creations } from '../../src/flows/engine/creations.js'
import { AccountsRepository } from '../../src/store/accounts-repository.js'
import type { Driver } from '../../src/store/driver.js'
import type { Execution, NewExecution } from '../../src/store/execution-rows.js'
import { ExecutionsRepository } from '../../src/store/executions-repository.js'
import { FlowsRepository } from '../../src/store/flows-repository.js'
import { migrate } from '../../src/store/migrate.js'
import { eachBackend, type Backend, type Tap } from '../helpers/flowrunner.js'
import { openTestQueue } from '../helpers/queue.js'

/**
 * The engine's state transitions on their own, against a real store and a real pg-boss queue: each writes its
 * state (with its log lines and the job that continues the execution) and publishes its events only once that
 * is stored; a transition that no longer applies writes and publishes nothing.
 */

const NODE: NodeSpec = { type: 'transform', params: {}, next: {} }

interface Bench {
  driver: Driver
  schema: string
  executions: ExecutionsRepository
  transitions: Transitions
  creations: Creations
  jobs: StepJobs
  /** Every event published, in order. */
  events: ExecutionEvent[]
  accountId: string
  flowId: string
  /** A new execution row (not stored), as the engine builds one. */
  row: (status?: 'queued' | 'running') => NewExecution
  first: (row: NewExecution) => OutgoingJob
}

async function bench(t: Tap, backend: Backend): Promise<Bench> {
  const { driver, queue, schema } = await openTestQueue(t, backend)
  await migrate(driver)
  const jobs = new StepJobs(queue, 10_000, () => undefined)
  await jobs.createQueue()

  const accountId = `acct-${randomUUID()}`
  await new AccountsRepository(driver).insert({ id: accountId, name: 'Owner', email: `${accountId}@example.com`, role: 'user', passwordHash: 'x' })
  const flowId = `flow-${randomUUID()}`
  await new FlowsRepository(driver).create(flowId, accountId, { name: 'f', description: '', version: null, tags: [], definition: 'nodes: {}', spec: {} })

  const events = new ExecutionEvents()
  const seen: ExecutionEvent[] = []
  events.subscribeAll((event) => seen.push(event))
  const executions = new ExecutionsRepository(driver)
  const specs = new SpecCache(async () => undefined)
  const children = new Children({ db: driver, jobs, specs, resolveFlow: async () => undefined, maxResultBytes: 1 << 20, cancelled: () => undefined })
  const transitions = new Transitions({ db: driver, executions, jobs, events, children, abort: () => undefined, kick: () => undefined })
  const creations = new Creations({ db: driver, executions, jobs, stats: transitions.stats })
  const row = (status: 'queued' | 'running' = 'running'): NewExecution => ({
    id: `exec-${randomUUID()}`,
    flowId,
    revision: 1,
    accountId,
    status,
    input: { n: 1 },
    startNode: 'a',
    deadlineAt: new Date(Date.now() + 60_000),
    jobId: randomUUID()
  })
  const first = (r: NewExecution): OutgoingJob => jobs.jobOf({ executionId: r.id, step: 0, attempt: 1 }, NODE)
  return { driver, schema, executions, transitions, creations, jobs, events: seen, accountId, flowId, row, first }
}

async function jobsOf(b: Bench, executionId: string): Promise<Array<{ id: string; state: string; deferred: boolean; step: number; attempt: number }>> {
  const { rows } = await b.driver.query<{ id: string; state: string; deferred: boolean; step: number; attempt: number }>(
    `SELECT id::text AS id, state::text AS state, start_after > now() AS deferred, (data->>'step')::int AS step, (data->>'attempt')::int AS attempt
       FROM ${b.schema}.job WHERE data->>'executionId' = $1 ORDER BY created_on, id`,
    [executionId]
  )
  return rows
}

async function stored(b: Bench, id: string): Promise<Execution> {
  const execution = await b.executions.get(id)
  if (execution === undefined) throw new Error(`execution ${id} is gone`)
  return execution
}

async function messages(b: Bench, id: string): Promise<string[]> {
  return (await b.executions.logs(id, { limit: 100, offset: 0 })).logs.map((l) => l.message)
}

/** A running execution claimed by this worker, as the engine starts one it runs itself. */
async function claimed(b: Bench): Promise<Execution> {
  const row = b.row()
  return (await b.creations.createClaimed(row, b.first(row))).execution
}

function step(execution: Execution, overrides: Partial<Advance>): Advance {
  return {
    nodeId: 'a',
    nodeType: 'transform',
    result: { ok: true },
    next: undefined,
    nextNode: undefined,
    deferMs: 0,
    inline: true,
    jobId: execution.jobId ?? '',
    pending: [],
    lines: [],
    ...overrides
  }
}

eachBackend('creations: create and createClaimed store the execution with its first job, and publish nothing', async (t, backend) => {
  const b = await bench(t, backend)
  const queued = b.row('queued')
  const execution = await b.creations.create(queued, b.first(queued))
  t.match(execution, { id: queued.id, status: 'queued', nextNode: 'a', steps: 0, attempt: 1, jobId: queued.jobId })
  t.same(await jobsOf(b, queued.id), [{ id: queued.jobId, state: 'created', deferred: false, step: 0, attempt: 1 }], 'its job, for any worker to fetch')

  const mine = b.row()
  const loaded = await b.creations.createClaimed(mine, b.first(mine))
  t.match(loaded.execution, { id: mine.id, status: 'running', jobId: mine.jobId })
  t.ok(loaded.execution.startedAt, 'running from the start')
  t.equal(loaded.sealed.size, 0, 'with its account\'s sealed secrets (none)')
  t.match(await jobsOf(b, mine.id), [{ id: mine.jobId, state: 'active' }], 'its job already claimed')

  t.same(b.transitions.stats, { started: 2, completed: 0, failed: 0, cancelled: 0 })
  t.same(b.events, [], 'creating publishes nothing: the route answers with the execution')
  t.ok(await b.transitions.markRunning(queued.id), 'a queued execution starts')
  t.equal((await stored(b, queued.id)).status, 'running')
})

eachBackend('transitions: advance to the end completes the execution and its job, then publishes in order', async (t, backend) => {
  const b = await bench(t, backend)
  const execution = await claimed(b)
  const started = logLine(execution.id, 'info', 'Node started', { nodeId: 'a', nodeType: 'transform' })
  const pending = [started.row]
  const completed = logLine(execution.id, 'info', 'Node completed', { nodeId: 'a', nodeType: 'transform', data: { duration_ms: 1 } })
  pending.push(completed.row)
  t.equal(await b.transitions.advance(execution, step(execution, { pending, lines: [completed.event] })), true)
  t.equal(pending.length, 0, 'the pending lines were saved')

  const after = await stored(b, execution.id)
  t.match(after, { status: 'completed', result: { ok: true }, nodes: { a: { ok: true } }, steps: 1, lastNode: 'a', nextNode: null })
  t.ok(after.completedAt)
  t.same(await messages(b, execution.id), ['Node started', 'Node completed', 'Execution completed'])
  t.match(await jobsOf(b, execution.id), [{ id: execution.jobId, state: 'completed' }], 'the job completed by the same statement')
  t.same(
    b.events.map((e) => [e.type, e.type === 'log' ? e.message : '']),
    [
      ['log', 'Node completed'],
      ['node_completed', ''],
      ['log', 'Execution completed'],
      ['execution_completed', '']
    ]
  )
  t.same(b.transitions.stats.completed, 1)
  // the final event a late WebSocket subscriber gets from the stored row is the one that was published
  const published = b.events.at(-1)
  t.same({ ...finalEvent(after, undefined, new Date()), timestamp: 0 }, { ...published, timestamp: 0 })
})

eachBackend('transitions: advance that hands off stores the next job with the step; a stale save changes nothing', async (t, backend) => {
  const b = await bench(t, backend)
  const execution = await claimed(b)
  t.equal(await b.transitions.advance(execution, step(execution, { next: 'b', nextNode: NODE, inline: false, deferMs: 60_000 })), true)
  const after = await stored(b, execution.id)
  t.match(after, { status: 'running', nextNode: 'b', steps: 1, attempt: 1 })
  const jobs = await jobsOf(b, execution.id)
  t.match(jobs.find((j) => j.id === execution.jobId), { state: 'completed' }, 'the old job is done')
  const next = jobs.find((j) => j.id !== execution.jobId)
  t.match(next, { state: 'created', deferred: true, step: 1, attempt: 1 }, 'a deferred job for the next node')
  t.equal(after.jobId, next?.id, 'which owns the execution now')
  t.same(b.events.map((e) => e.type), ['node_completed'])

  // a second worker that read the execution before this save (same steps and attempt) saves nothing
  const duplicate = logLine(execution.id, 'info', 'Node completed', { nodeId: 'a', nodeType: 'transform' })
  t.equal(await b.transitions.advance(execution, step(execution, { pending: [duplicate.row], lines: [duplicate.event] })), false)
  t.same(b.events.map((e) => e.type), ['node_completed'], 'and publishes nothing')
  t.same(await messages(b, execution.id), [], 'nor stores its lines')
  t.match(await stored(b, execution.id), { status: 'running', steps: 1 })
})

eachBackend('transitions: a retry waits (status waiting) with only the attempt moved, defers a job for the same step, then publishes', async (t, backend) => {
  const b = await bench(t, backend)
  const execution = await claimed(b)
  const line = logLine(execution.id, 'warn', 'Attempt 1 of 3 failed: boom; retrying in 60000 ms', { nodeId: 'a', nodeType: 'transform' })
  const pending = [line.row]
  const since = Date.now()
  const state = { kind: 'retry' as const, node: 'a', since, until: since + 60_000 }
  t.equal(await b.transitions.wait(execution, NODE, state, 60_000, execution.jobId ?? '', pending, line.event), true)
  t.equal(pending.length, 0)
  const after = await stored(b, execution.id)
  t.match(after, { status: 'waiting', attempt: 2, steps: 0, nextNode: 'a', waiting: state })
  const jobs = await jobsOf(b, execution.id)
  t.match(jobs.find((j) => j.id === after.jobId), { state: 'created', deferred: true, step: 0, attempt: 2 })
  t.match(jobs.find((j) => j.id === execution.jobId), { state: 'completed' }, 'the job that ran the attempt is completed by the same statement')
  t.same(b.events[0], line.event)
  t.match(b.events[1], { type: 'execution_update', status: 'waiting', node_id: 'a' })
  t.same(await messages(b, execution.id), [line.row.message])

  // the same retry again (a worker that read the old attempt) matches nothing
  t.equal(await b.transitions.wait(execution, NODE, state, 60_000, execution.jobId ?? '', [], line.event), false)
  t.equal(b.events.length, 2)
  t.equal((await stored(b, execution.id)).attempt, 2)
})

eachBackend('transitions: fail ends a live execution once, with its line and final event', async (t, backend) => {
  const b = await bench(t, backend)
  const execution = await claimed(b)
  const nodeFailed = logLine(execution.id, 'error', 'Node failed', { nodeId: 'a', nodeType: 'transform', data: { error: 'boom' } })
  await b.transitions.fail(execution, 'boom', 'a', 'transform', [nodeFailed.row], [nodeFailed.event])
  const after = await stored(b, execution.id)
  t.match(after, { status: 'failed', error: 'boom', nodeId: 'a', nextNode: null })
  t.same(await messages(b, execution.id), ['Node failed', 'Execution failed'])
  t.match(b.events, [
    { type: 'log', message: 'Node failed' },
    { type: 'log', level: 'error', message: 'Execution failed', node_id: 'a', node_type: 'transform', data: { error: 'boom' } },
    { type: 'execution_failed', status: 'failed', error: 'boom', node_id: 'a', node_type: 'transform' }
  ])
  t.same({ ...finalEvent(after, 'transform', new Date()), timestamp: 0 }, { ...b.events.at(-1), timestamp: 0 }, 'as a late subscriber is told')

  await b.transitions.fail(after, 'again', null, undefined, [])
  t.equal(b.events.length, 3, 'an execution that already ended is not failed again')
  t.equal(b.transitions.stats.failed, 1)
})

eachBackend('transitions: cancel checks the owner and the state, aborts, then publishes', async (t, backend) => {
  const b = await bench(t, backend)
  const execution = await claimed(b)
  let aborted = 0
  const abort = (): void => {
    aborted++
  }
  await t.rejects(b.transitions.cancel(execution.id, 'someone-else', abort), { name: 'DomainError', code: 'not_found' })
  await t.rejects(b.transitions.cancel('exec-missing', null, abort), { name: 'DomainError', code: 'not_found' })
  t.equal(aborted, 0)

  await b.transitions.cancel(execution.id, b.accountId, abort)
  t.equal(aborted, 1, 'the running node is aborted')
  t.match(await stored(b, execution.id), { status: 'cancelled', nextNode: null })
  t.same(await messages(b, execution.id), ['Execution cancelled'])
  t.same(b.events.map((e) => e.type), ['log', 'execution_cancelled'])
  t.equal(b.transitions.stats.cancelled, 1)

  await t.rejects(b.transitions.cancel(execution.id, null, abort), { name: 'DomainError', code: 'conflict' })
  // a step saved after the cancel (a node that was still running) is not stored
  t.equal(await b.transitions.advance(execution, step(execution, {})), false)
  t.equal(b.events.length, 2)
})
