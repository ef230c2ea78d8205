import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Agent } from 'undici'
import { domainError } from '../../errors.js'
import type { QueueJob } from '../../queue/job-queue.js'
import type { JobQueue } from '../../queue/job-queue.js'
import type { Driver, Queryable } from '../../store/driver.js'
import { ExecutionsRepository, TERMINAL, type Execution, type NewExecution, type NewLog, type StepUpdate } from '../../store/executions-repository.js'
import type { Owner } from '../../store/flows-repository.js'
import type { SealedValue } from '../../store/secrets-repository.js'
import type { Logger } from '../../util/logger.js'
import type { FlowSpec, NodeSpec } from '../definition-schema.js'
import { nodeTypes } from '../nodes/index.js'
import { EvaluationError, resolveParams, type Scope } from '../runtime/evaluate.js'
import type { ExecutionEvent, ExecutionEvents } from './events.js'
import { NodeFailure, type NodeOutcome, type RunContext } from '../runtime/node-runtime.js'
import { SecretMasker } from '../runtime/secret-masker.js'

export const STEP_QUEUE = 'flowrunner-step'
/** This process, as `host:pid`. */
const WORKER = `${hostname()}:${process.pid}`

export interface EngineSettings {
  concurrency: number
  executionTimeoutMs: number
  stepLimit: number
  retentionDays: number
  maxResponseBytes: number
  /** A node without `timeout` gets this; it also bounds how long a dead worker's step stays claimed. */
  defaultNodeTimeoutMs: number
  /** How often the worker looks for jobs it was not woken for (other replicas' and deferred ones). */
  pollIntervalMs: number
}

export interface EngineDeps {
  db: Driver
  queue: JobQueue
  events: ExecutionEvents
  http: Agent
  loadSpec: (flowId: string, revision: number) => Promise<FlowSpec | undefined>
  /** An account's secrets in plain text, from the sealed values read with its execution. */
  openSecrets: (accountId: string, sealed: ReadonlyMap<string, SealedValue>) => Record<string, string>
  evercycle: RunContext['evercycle']
  log: Logger
  settings: EngineSettings
}

interface StepJob {
  executionId: string
  /** The execution's step count and attempt when the job was sent (what a job is matched on for old rows). */
  step: number
  attempt: number
  /** The job's expiry in seconds, as sent: it bounds how many nodes the job may run before handing off. */
  expireS?: number
}

/** An execution and its account's sealed secrets: what a worker reads before it runs a job. */
type ForRun = NonNullable<Awaited<ReturnType<ExecutionsRepository['getForRun']>>>

type AbortReason = 'cancelled' | 'shutdown'
/**
 * How a job ends: done (to be completed), already completed (by the statement that saved its last node), or
 * handed back to the queue (this worker is stopping).
 */
type Settled = 'done' | 'completed' | 'retry-job'

/** Seconds a job's expiry exceeds its first node's timeout; a segment stops starting nodes half of it before. */
const JOB_EXPIRY_MARGIN_S = 10
/** How often pg-boss retries a job whose worker died or handed it back. */
const JOB_RETRY_LIMIT = 5

/** One job's run of an execution: what its nodes share, and the log lines not yet saved. */
interface SegmentRun {
  spec: FlowSpec
  secrets: Record<string, string>
  masker: SecretMasker
  /** Aborted by a cancel (from here or another replica) or a shutdown, whichever node is running. */
  controller: AbortController
  pending: NewLog[]
  /** No node is started that could still run at this time (ms since the epoch). */
  deadline: number
  /** The queue job this run is for. */
  jobId: string
}

/** Records one log line of a step (masked) and returns its event, to publish when the caller decides. */
type RecordLine = (level: NewLog['level'], message: string, data?: Record<string, unknown>) => ExecutionEvent

const now = (): string => new Date().toISOString()

/** Exponential back-off with full jitter in [0.5, 1.5) of the nominal delay. */
function backoff(baseMs: number, attempt: number): number {
  return Math.round(baseMs * 2 ** (attempt - 1) * (0.5 + Math.random()))
}

/** The edge to follow: a condition's own action first, then `success`, then `default`; failures take `error`. */
export function pickNext(next: Record<string, string>, outcome: { ok: true; action?: string } | { ok: false }): string | undefined {
  if (!outcome.ok) return next.error
  const candidates = [outcome.action, 'success', 'default'].filter((a): a is string => a !== undefined)
  for (const action of candidates) if (next[action] !== undefined) return next[action]
  return undefined
}

/**
 * Runs executions durably, one node per queue job. After each node its result, the next node id and its log
 * lines commit in one transaction together with the job for the next node, so a crash anywhere resumes from
 * the last completed node (a node may run twice: at-least-once). Waits (delays, retry back-off) are deferred
 * jobs, so they hold no worker slot.
 */
export class Engine {
  private active = 0
  private stopped = true
  private loopDone: Promise<void> = Promise.resolve()
  private wake: (() => void) | undefined
  /** A kick() that came while the loop was not waiting. */
  private wakePending = false
  private readonly running = new Map<string, AbortController>()
  private readonly specs = new Map<string, FlowSpec>()
  private housekeeping: NodeJS.Timeout | undefined
  readonly stats = { started: 0, completed: 0, failed: 0, cancelled: 0 }

  constructor(private readonly deps: EngineDeps) {}

  get busy(): number {
    return this.active
  }

  get hasFreeSlot(): boolean {
    return this.active < this.deps.settings.concurrency
  }

  async start(): Promise<void> {
    await this.deps.queue.createQueue(STEP_QUEUE)
    this.stopped = false
    this.loopDone = this.loop()
    this.housekeeping = setInterval(() => void this.housekeep(), 60_000)
    this.housekeeping.unref()
    void this.housekeep()
  }

  /** Stops taking jobs; running nodes are aborted and their jobs handed back to the queue for another worker. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.housekeeping)
    this.kick()
    for (const controller of this.running.values()) controller.abort('shutdown' satisfies AbortReason)
    await this.loopDone
    while (this.active > 0) await new Promise((r) => setTimeout(r, 20))
  }

  /** Starts an execution of a flow revision: the row and its first job are created together. */
  async run(flow: { id: string; revision: number; accountId: string }, input: unknown): Promise<Execution> {
    const spec = await this.spec(flow.id, flow.revision)
    const id = `exec-${randomUUID()}`
    // a worker with a free slot runs the execution itself: its first job is claimed as it is created, so the
    // first node starts right after the commit instead of after the next fetch from the queue
    const status = this.hasFreeSlot ? 'running' : 'queued'
    const local = status === 'running' && !this.stopped
    if (local) this.active++
    const jobId = randomUUID()
    const claimedAt = Date.now()
    const row: NewExecution = {
      id,
      flowId: flow.id,
      revision: flow.revision,
      accountId: flow.accountId,
      status,
      input: input ?? {},
      startNode: spec.start,
      deadlineAt: new Date(Date.now() + this.deps.settings.executionTimeoutMs),
      jobId
    }
    const first = this.jobOf({ executionId: id, step: 0, attempt: 1 }, spec.nodes[spec.start])
    if (!local) {
      const execution = await this.deps.db.transaction(async (tx) => {
        const created = await new ExecutionsRepository(tx).create(row)
        await this.send(tx, jobId, first)
        return created
      })
      this.stats.started++
      this.kick()
      return execution
    }
    let loaded: ForRun
    try {
      // one statement: the execution, its first job already claimed by this worker, and what the worker reads
      // before it starts a job (the execution and its account's sealed secrets)
      loaded = await new ExecutionsRepository(this.deps.db).createForRun(row, (n) =>
        this.deps.queue.claimedInsert(STEP_QUEUE, first.data, { id: jobId, expireInSeconds: first.expireS, retryLimit: JOB_RETRY_LIMIT }, n)
      )
    } catch (err) {
      this.release()
      throw err
    }
    this.stats.started++
    this.dispatch({ id: jobId, name: STEP_QUEUE, data: first.data, retryCount: 0 }, claimedAt, loaded)
    return loaded.execution
  }

  /** Cancels a live execution: it ends now, its running node is aborted, and nothing after it runs. */
  async cancel(id: string, owner: Owner): Promise<void> {
    const repo = new ExecutionsRepository(this.deps.db)
    const execution = await repo.get(id, owner)
    if (execution === undefined) throw domainError('not_found', 'Execution not found')
    if (TERMINAL.has(execution.status)) throw domainError('conflict', `Execution already ${execution.status}`)
    const cancelled = await repo.finish(id, 'cancelled', null, null, [{ level: 'info', message: 'Execution cancelled' }])
    if (!cancelled) throw domainError('conflict', 'Execution already finished')
    this.abortLocal(id)
    this.stats.cancelled++
    this.publish({ type: 'log', execution_id: id, level: 'info', message: 'Execution cancelled', timestamp: now() })
    this.publish({ type: 'execution_cancelled', execution_id: id, status: 'cancelled', timestamp: now() })
  }

  /** Aborts the node this process is running for the execution, if any (cancel from here or another replica). */
  abortLocal(id: string): void {
    this.running.get(id)?.abort('cancelled' satisfies AbortReason)
  }

  private publish(event: ExecutionEvent): void {
    this.deps.events.publish(event)
  }

  /**
   * Enqueues job `id` (made by `jobOf`), which continues the execution at a node; the caller has stored the id on the execution
   * in the same transaction (and sends nothing when that store matched no row). The job stays claimed as long
   * as that node may run, plus a margin; a worker that died holding it loses it after that and the job is
   * retried elsewhere, resuming from the last saved node.
   */
  private async send(tx: Queryable, id: string, job: { data: StepJob; expireS: number }, deferMs = 0): Promise<void> {
    await this.deps.queue.send(STEP_QUEUE, job.data, {
      id,
      tx,
      ...(deferMs > 0 ? { startAfter: new Date(Date.now() + deferMs) } : {}),
      expireInSeconds: job.expireS,
      // retried at once (pg-boss's default, as for the claimed first job): a job is retried only when its worker
      // died or stopped, and the execution row, not the job, says where to resume
      retryLimit: JOB_RETRY_LIMIT
    })
    if (deferMs > 0) setTimeout(() => this.kick(), deferMs).unref()
  }

  /** A job continuing at `node`, with its expiry: the node's own timeout, not the default (a job that expires
   * while its node still runs is handed to a second worker, which runs the node again alongside the first). */
  private jobOf(job: Omit<StepJob, 'expireS'>, node: NodeSpec | undefined): { data: StepJob; expireS: number } {
    const expireS = Math.ceil((node?.timeout_ms ?? this.deps.settings.defaultNodeTimeoutMs) / 1000) + JOB_EXPIRY_MARGIN_S
    return { data: { ...job, expireS }, expireS }
  }

  /** Wakes the worker loop now; when it is busy fetching, it fetches again before it sleeps. */
  private kick(): void {
    const wake = this.wake
    this.wake = undefined
    if (wake === undefined) this.wakePending = true
    else wake()
  }

  private async loop(): Promise<void> {
    const { queue, settings, log } = this.deps
    while (!this.stopped) {
      const free = settings.concurrency - this.active
      if (free > 0) {
        let jobs: Array<QueueJob<StepJob>> = []
        // a wake-up that arrives while this fetch runs is for a job the fetch may not see: fetch again after it
        this.wakePending = false
        const fetchedAt = Date.now()
        try {
          jobs = await queue.fetch<StepJob>(STEP_QUEUE, free)
        } catch (err) {
          if (this.stopped) break
          log.error({ err }, 'flowrunner: fetching jobs failed')
        }
        for (const job of jobs) {
          this.active++
          this.dispatch(job, fetchedAt)
        }
        if (jobs.length > 0 || this.wakePending) continue
      }
      this.wakePending = false
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settings.pollIntervalMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** Runs a claimed job in a slot the caller has already counted in `active`, and frees the slot after it. */
  private dispatch(job: QueueJob<StepJob>, claimedAt: number, loaded?: ForRun): void {
    void this.handle(job, claimedAt, loaded)
      .catch((err: unknown) => this.deps.log.error({ err }, 'flowrunner: step failed unexpectedly'))
      .finally(() => this.release())
  }

  private release(): void {
    this.active--
    this.kick()
  }

  /** The type of a node in a flow revision: messages rebuilt from stored state name it as live ones do. */
  async nodeType(flowId: string, revision: number, nodeId: string): Promise<string | undefined> {
    try {
      return (await this.spec(flowId, revision)).nodes[nodeId]?.type
    } catch {
      return undefined
    }
  }

  private async spec(flowId: string, revision: number): Promise<FlowSpec> {
    const key = `${flowId}@${revision}`
    let spec = this.specs.get(key)
    if (spec === undefined) {
      spec = await this.deps.loadSpec(flowId, revision)
      if (spec === undefined) throw domainError('not_found', 'Flow revision not found')
      if (this.specs.size > 1000) this.specs.clear()
      this.specs.set(key, spec)
    }
    return spec
  }

  private async handle(job: QueueJob<StepJob>, fetchedAt: number, loaded?: ForRun): Promise<void> {
    const { queue } = this.deps
    // claimed while this worker was stopping (a run that began before stop()): another worker takes it
    const settled = this.stopped ? 'retry-job' : await this.segment(job, fetchedAt, loaded)
    if (settled === 'retry-job') await queue.fail(STEP_QUEUE, job.id, 'worker stopping')
    else if (settled === 'done') await queue.complete(STEP_QUEUE, job.id)
  }

  /**
   * Runs the execution a job owns, node after node, for as long as the job may stay claimed: each node's
   * result, next node and log lines are saved in one statement before the next node starts, so a crash
   * resumes from the last saved node (the job is retried with the same id). A wait (delay, retry back-off),
   * a node that might outlive the job's expiry, or the end of the execution ends the segment.
   */
  private async segment(job: QueueJob<StepJob>, fetchedAt: number, preloaded?: ForRun): Promise<Settled> {
    const repo = new ExecutionsRepository(this.deps.db)
    // a job claimed as its execution was created comes with the execution as created
    const found = preloaded ?? (await repo.getForRun(job.data.executionId))
    if (found === undefined) return 'done'
    const loaded = found.execution
    if (TERMINAL.has(loaded.status) || loaded.nextNode === null) return 'done'
    // a job superseded by a newer one (it expired while its worker still ran and was handed on) does nothing
    const current = loaded.jobId === null ? loaded.steps === job.data.step && loaded.attempt === job.data.attempt : loaded.jobId === job.id
    if (!current) return 'done'
    let startedAt = loaded.startedAt
    if (loaded.status === 'queued') {
      startedAt = (await repo.markRunning(loaded.id)) ?? null
      if (startedAt === null) return 'done'
    }
    const spec = await this.spec(loaded.flowId, loaded.revision)
    const secrets = this.deps.openSecrets(loaded.accountId, found.sealed)
    const masker = new SecretMasker()
    for (const value of Object.values(secrets)) masker.add(value)
    const controller = new AbortController()
    this.running.set(loaded.id, controller)
    const run: SegmentRun = {
      spec,
      secrets,
      masker,
      controller,
      pending: [],
      jobId: job.id,
      // the job expires expireS after it was claimed; a node is started inside it only if it ends well before
      deadline: fetchedAt + (job.data.expireS ?? 0) * 1000 - JOB_EXPIRY_MARGIN_S * 500
    }
    try {
      let execution: Execution = { ...loaded, status: 'running', startedAt }
      if (execution.steps === 0 && execution.attempt === 1 && execution.lastNode === null) {
        const nodeId = execution.nextNode ?? undefined
        const nodeType = nodeId === undefined ? undefined : spec.nodes[nodeId]?.type
        run.pending.push({ level: 'info', message: 'Execution started', nodeId, nodeType, at: new Date() })
        this.publish({ type: 'log', execution_id: execution.id, level: 'info', message: 'Execution started', ...(nodeId === undefined ? {} : { node_id: nodeId }), ...(nodeType === undefined ? {} : { node_type: nodeType }), timestamp: now() })
      }
      for (;;) {
        const outcome = await this.runNode(execution, run)
        if (typeof outcome === 'string') return outcome
        execution = outcome
      }
    } finally {
      this.running.delete(loaded.id)
    }
  }

  /** Whether the next node may run inside this job: no wait before it, and it ends before the job could expire. */
  private canContinue(run: SegmentRun, next: NodeSpec | undefined, deferMs: number): boolean {
    if (deferMs > 0 || this.stopped || run.controller.signal.aborted) return false
    const timeoutMs = next?.timeout_ms ?? this.deps.settings.defaultNodeTimeoutMs
    return Date.now() + timeoutMs <= run.deadline
  }

  /** Runs the execution's next node; returns the execution as saved when the segment goes on with the next one. */
  private async runNode(execution: Execution, run: SegmentRun): Promise<Execution | Settled> {
    const { settings } = this.deps
    const { spec, masker, controller, pending } = run
    if (Date.now() >= execution.deadlineAt.getTime()) {
      await this.fail(execution, `Execution timed out after ${settings.executionTimeoutMs} ms`, null, undefined, pending)
      return 'done'
    }
    if (execution.steps >= settings.stepLimit) {
      await this.fail(execution, `Step limit of ${settings.stepLimit} nodes exceeded`, null, undefined, pending)
      return 'done'
    }
    const nodeId = execution.nextNode ?? ''
    const node = spec.nodes[nodeId]
    const type = node === undefined ? undefined : nodeTypes.get(node.type)
    if (node === undefined || type === undefined) {
      await this.fail(execution, `Node ${nodeId} is not runnable`, nodeId, node?.type, pending)
      return 'done'
    }

    // a line is stored with the step's save; lines written after the node ran are published only once that
    // save succeeded (a cancel in between must not leave subscribers with a "Node completed" that never was)
    const record: RecordLine = (level, message, data) => {
      const entry: NewLog = { level, message: masker.text(message), nodeId, nodeType: node.type, at: new Date(), ...(data === undefined ? {} : { data: masker.value(data) }) }
      pending.push(entry)
      return { type: 'log', execution_id: execution.id, level, message: entry.message, node_id: nodeId, node_type: node.type, ...(entry.data === undefined ? {} : { data: entry.data }), timestamp: now() }
    }
    const log = (level: NewLog['level'], message: string, data?: Record<string, unknown>): void => this.publish(record(level, message, data))

    this.publish({ type: 'execution_update', execution_id: execution.id, status: 'running', node_id: nodeId, node_type: node.type, timestamp: now() })
    // which replica ran the node: operators (and the cluster test) can tell where work went
    log('info', 'Node started', { worker: WORKER, ...(execution.attempt > 1 ? { attempt: execution.attempt } : {}) })

    const remainingMs = Math.max(0, execution.deadlineAt.getTime() - Date.now())
    const timeoutMs = Math.min(node.timeout_ms ?? settings.defaultNodeTimeoutMs, remainingMs)
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)])
    const scope: Scope = {
      input: execution.input,
      nodes: execution.nodes,
      secrets: run.secrets,
      execution: { id: execution.id, flow_id: execution.flowId, started_at: execution.startedAt?.toISOString() ?? null }
    }
    const started = Date.now()
    let outcome: NodeOutcome | undefined
    let failure: NodeFailure | undefined
    try {
      const params = (await resolveParams(node.params, scope, type.rawExpressions ?? [])) as Record<string, unknown>
      outcome = await type.run(params, {
        signal,
        timeoutMs,
        remainingMs,
        scope,
        http: this.deps.http,
        maxResponseBytes: settings.maxResponseBytes,
        evercycle: this.deps.evercycle,
        log
      })
    } catch (err) {
      failure = this.asFailure(err, signal, controller.signal, timeoutMs)
    }
    const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined
    if (reason === 'cancelled') return 'done'
    if (reason === 'shutdown') return 'retry-job'

    const durationMs = Date.now() - started
    if (outcome !== undefined) {
      const result = masker.value(outcome.result ?? null)
      const next = pickNext(node.next, { ok: true, ...(outcome.action === undefined ? {} : { action: outcome.action }) })
      const completedLine = record('info', 'Node completed', { duration_ms: durationMs, ...outcome.logData })
      return this.advance(execution, run, { nodeId, node, result, next, deferMs: outcome.deferMs ?? 0, lines: [completedLine] })
    }
    // a timer may fire a millisecond before the wall clock reaches the deadline: a node stopped by the timeout
    // that was the execution's remaining time was cut by the deadline, whatever Date.now() says
    const cutByDeadline = remainingMs < (node.timeout_ms ?? settings.defaultNodeTimeoutMs) && signal.aborted && !controller.signal.aborted
    if (cutByDeadline || Date.now() >= execution.deadlineAt.getTime()) {
      // the execution's own deadline cut the node short: no retry, no error edge, the execution is over
      const error = `Execution timed out after ${settings.executionTimeoutMs} ms`
      const line = record('error', 'Node failed', { error, duration_ms: durationMs })
      await this.fail(execution, error, nodeId, node.type, pending, [line])
      return 'done'
    }
    return this.failNode(execution, run, node, nodeId, failure ?? new NodeFailure('Node failed', false), durationMs, record)
  }

  private asFailure(err: unknown, signal: AbortSignal, cancel: AbortSignal, timeoutMs: number): NodeFailure {
    if (err instanceof NodeFailure) {
      if (signal.aborted && !cancel.aborted) return new NodeFailure(`Node timed out after ${timeoutMs} ms`, true, err.logData)
      return err
    }
    if (err instanceof EvaluationError) return new NodeFailure(err.message, false, { expression: err.expression, position: err.position })
    const e = err as { code?: string; statusCode?: number; message?: string }
    if (e.code === 'upstream_timeout' || e.code === 'upstream_unavailable') return new NodeFailure(e.message ?? 'Evercycle unavailable', true)
    if (signal.aborted && !cancel.aborted) return new NodeFailure(`Node timed out after ${timeoutMs} ms`, true)
    return new NodeFailure(e.message ?? String(err), false)
  }

  /**
   * Saves a node's result (or its error, taking an error edge) and moves on: the execution ends when there is
   * no next node, continues in this segment when it can, and is otherwise handed to a new job, deferred by a
   * delay, in the same transaction as the save.
   */
  private async advance(
    execution: Execution,
    run: SegmentRun,
    step: { nodeId: string; node: NodeSpec; result: unknown; next: string | undefined; deferMs: number; lines: ExecutionEvent[] }
  ): Promise<Execution | Settled> {
    const { nodeId, node, result, next, deferMs } = step
    const endLine = next === undefined ? this.endLine(execution.id, run, nodeId, node.type) : undefined
    const update: StepUpdate = {
      nodeId,
      result,
      nextNode: next ?? null,
      attempt: 1,
      expect: { steps: execution.steps, attempt: execution.attempt },
      ...(next === undefined ? { final: { status: 'completed' as const, result } } : {})
    }
    const nextNode = next === undefined ? undefined : run.spec.nodes[next]
    const inline = next === undefined || this.canContinue(run, nextNode, deferMs)
    const logs = run.pending.splice(0)
    // when this save ends the job's work (the execution ends, or a new job takes it on), the job is completed
    // by the same statement
    const endsJob = !inline || next === undefined
    const completeJob = endsJob ? (first: number) => this.deps.queue.completeStatement(STEP_QUEUE, run.jobId, first) : undefined
    const saved = inline
      ? await new ExecutionsRepository(this.deps.db).saveStep(execution.id, update, logs, completeJob)
      : await this.deps.db.transaction(async (tx) => {
          const jobId = randomUUID()
          if (!(await new ExecutionsRepository(tx).saveStep(execution.id, { ...update, jobId }, logs, completeJob))) return false
          await this.send(tx, jobId, this.jobOf({ executionId: execution.id, step: execution.steps + 1, attempt: 1 }, nextNode), deferMs)
          return true
        })
    if (!saved) return 'done'
    for (const line of step.lines) this.publish(line)
    this.publish({ type: 'node_completed', execution_id: execution.id, node_id: nodeId, node_type: node.type, result, timestamp: now() })
    if (endLine !== undefined) {
      this.stats.completed++
      this.publish(endLine)
      this.publish({ type: 'execution_completed', execution_id: execution.id, status: 'completed', result, timestamp: now() })
      return 'completed'
    }
    if (!inline) {
      if (deferMs === 0) this.kick()
      return 'completed'
    }
    return {
      ...execution,
      nodes: { ...execution.nodes, [nodeId]: result },
      nextNode: next ?? null,
      attempt: 1,
      steps: execution.steps + 1,
      lastNode: nodeId
    }
  }

  /** The "Execution completed" line (of the last node), recorded into the segment's pending lines. */
  private endLine(executionId: string, run: SegmentRun, nodeId: string, nodeType: string): ExecutionEvent {
    run.pending.push({ level: 'info', message: 'Execution completed', nodeId, nodeType, at: new Date() })
    return { type: 'log', execution_id: executionId, level: 'info', message: 'Execution completed', node_id: nodeId, node_type: nodeType, timestamp: now() }
  }

  private async failNode(
    execution: Execution,
    run: SegmentRun,
    node: NodeSpec,
    nodeId: string,
    failure: NodeFailure,
    durationMs: number,
    record: RecordLine
  ): Promise<Execution | Settled> {
    const message = run.masker.text(failure.message)
    const maxAttempts = node.retry?.max_attempts ?? 1
    if (failure.retryable && execution.attempt < maxAttempts && Date.now() < execution.deadlineAt.getTime()) {
      const wait = backoff(node.retry?.backoff_ms ?? 1000, execution.attempt)
      const line = record('warn', `Attempt ${execution.attempt} of ${maxAttempts} failed: ${message}; retrying in ${wait} ms`, {
        attempt: execution.attempt,
        error: message,
        retry_in_ms: wait,
        ...failure.logData
      })
      const logs = run.pending.splice(0)
      const saved = await this.deps.db.transaction(async (tx) => {
        const jobId = randomUUID()
        if (!(await new ExecutionsRepository(tx).saveRetry(execution.id, { steps: execution.steps, attempt: execution.attempt }, jobId, logs))) return false
        await this.send(tx, jobId, this.jobOf({ executionId: execution.id, step: execution.steps, attempt: execution.attempt + 1 }, node), wait)
        return true
      })
      if (saved) this.publish(line)
      return 'done'
    }
    const failedLine = record('error', 'Node failed', { error: message, duration_ms: durationMs, ...failure.logData })
    const errorEdge = pickNext(node.next, { ok: false })
    if (errorEdge !== undefined) {
      return this.advance(execution, run, { nodeId, node, result: { error: message }, next: errorEdge, deferMs: 0, lines: [failedLine] })
    }
    await this.fail(execution, message, nodeId, node.type, run.pending, [failedLine])
    return 'done'
  }

  /**
   * Ends the execution as failed, with the segment's unsaved `logs`; `lines` are log events to publish once
   * the failure is stored.
   */
  private async fail(
    execution: Execution,
    error: string,
    nodeId: string | null,
    nodeType: string | undefined,
    logs: readonly NewLog[],
    lines: ExecutionEvent[] = []
  ): Promise<void> {
    const finished = await new ExecutionsRepository(this.deps.db).finish(execution.id, 'failed', error, nodeId, [
      ...logs,
      { level: 'error', message: 'Execution failed', nodeId: nodeId ?? undefined, nodeType, data: { error }, at: new Date() }
    ])
    if (!finished) return
    this.stats.failed++
    for (const line of lines) this.publish(line)
    this.publish({ type: 'log', execution_id: execution.id, level: 'error', message: 'Execution failed', ...(nodeId === null ? {} : { node_id: nodeId }), ...(nodeType === undefined ? {} : { node_type: nodeType }), data: { error }, timestamp: now() })
    this.publish({
      type: 'execution_failed',
      execution_id: execution.id,
      status: 'failed',
      error,
      ...(nodeId === null ? {} : { node_id: nodeId }),
      ...(nodeType === undefined ? {} : { node_type: nodeType }),
      timestamp: now()
    })
  }

  /** Retention pruning and the sweeper for executions whose jobs were lost past their deadline. */
  private async housekeep(): Promise<void> {
    if (this.stopped) return
    const repo = new ExecutionsRepository(this.deps.db)
    try {
      await repo.prune(this.deps.settings.retentionDays)
      for (const id of await repo.overdue(100)) {
        const execution = await repo.get(id)
        if (execution !== undefined) await this.fail(execution, 'Execution timed out', null, undefined, [])
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'flowrunner housekeeping failed')
    }
  }
}
