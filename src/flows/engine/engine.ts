import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Agent } from 'undici'
import { domainError } from '../../errors.js'
import type { QueueJob } from '../../queue/job-queue.js'
import type { JobQueue } from '../../queue/job-queue.js'
import type { Driver, Queryable } from '../../store/driver.js'
import { ExecutionsRepository, TERMINAL, type Execution, type NewLog } from '../../store/executions-repository.js'
import type { Owner } from '../../store/flows-repository.js'
import type { Logger } from '../../util/logger.js'
import type { FlowSpec, NodeSpec } from '../definition-schema.js'
import { nodeTypes } from '../nodes/index.js'
import { EvaluationError, resolveParams, type Scope } from './evaluate.js'
import type { ExecutionEvent, ExecutionEvents } from './events.js'
import { NodeFailure, type NodeOutcome, type RunContext } from './node-runtime.js'
import { SecretMasker } from './secret-masker.js'

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
  resolveSecrets: (accountId: string) => Promise<Record<string, string>>
  evercycle: RunContext['evercycle']
  log: Logger
  settings: EngineSettings
}

interface StepJob {
  executionId: string
  /** The execution's step count and attempt when the job was sent: a job that no longer matches is stale. */
  step: number
  attempt: number
}

type AbortReason = 'cancelled' | 'shutdown'

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
    const status = this.hasFreeSlot ? 'running' : 'queued'
    const execution = await this.deps.db.transaction(async (tx) => {
      const created = await new ExecutionsRepository(tx).create({
        id,
        flowId: flow.id,
        revision: flow.revision,
        accountId: flow.accountId,
        status,
        input: input ?? {},
        startNode: spec.start,
        deadlineAt: new Date(Date.now() + this.deps.settings.executionTimeoutMs)
      })
      await this.send(tx, { executionId: id, step: 0, attempt: 1 }, spec.nodes[spec.start])
      return created
    })
    this.stats.started++
    this.kick()
    return execution
  }

  /** Cancels a live execution: it ends now, its running node is aborted, and nothing after it runs. */
  async cancel(id: string, owner: Owner): Promise<void> {
    const repo = new ExecutionsRepository(this.deps.db)
    const execution = await repo.get(id, owner)
    if (execution === undefined) throw domainError('not_found', 'Execution not found')
    if (TERMINAL.has(execution.status)) throw domainError('conflict', `Execution already ${execution.status}`)
    const cancelled = await this.deps.db.transaction(async (tx) => {
      const r = new ExecutionsRepository(tx)
      if (!(await r.finish(id, 'cancelled', null, null))) return false
      await r.appendLogs(id, [{ level: 'info', message: 'Execution cancelled' }])
      return true
    })
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

  /** Enqueues the step that runs `node`; its job stays claimed as long as that node may run, plus a margin. */
  private async send(tx: Queryable, job: StepJob, node: NodeSpec | undefined, deferMs = 0): Promise<void> {
    // the node's own timeout, not the default: a job that expires while its node still runs is handed to a
    // second worker, which runs the node again alongside the first
    const nodeTimeoutS = Math.ceil((node?.timeout_ms ?? this.deps.settings.defaultNodeTimeoutMs) / 1000)
    await this.deps.queue.send(STEP_QUEUE, job, {
      tx,
      ...(deferMs > 0 ? { startAfter: new Date(Date.now() + deferMs) } : {}),
      // a worker that died holding the job loses it after this; the job is then retried elsewhere
      expireInSeconds: nodeTimeoutS + 10,
      retryLimit: 5,
      retryDelaySeconds: 1
    })
    if (deferMs > 0) setTimeout(() => this.kick(), deferMs).unref()
  }

  private kick(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private async loop(): Promise<void> {
    const { queue, settings, log } = this.deps
    while (!this.stopped) {
      const free = settings.concurrency - this.active
      if (free > 0) {
        let jobs: Array<QueueJob<StepJob>> = []
        try {
          jobs = await queue.fetch<StepJob>(STEP_QUEUE, free)
        } catch (err) {
          if (this.stopped) break
          log.error({ err }, 'flowrunner: fetching jobs failed')
        }
        for (const job of jobs) {
          this.active++
          void this.handle(job)
            .catch((err: unknown) => log.error({ err }, 'flowrunner: step failed unexpectedly'))
            .finally(() => {
              this.active--
              this.kick()
            })
        }
        if (jobs.length > 0) continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settings.pollIntervalMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
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

  private async handle(job: QueueJob<StepJob>): Promise<void> {
    const { queue } = this.deps
    const settled = await this.step(job.data)
    if (settled === 'retry-job') await queue.fail(STEP_QUEUE, job.id, 'worker stopping')
    else await queue.complete(STEP_QUEUE, job.id)
  }

  /** Runs one node of one execution. Returns 'retry-job' when the job must go back to the queue. */
  private async step(job: StepJob): Promise<'done' | 'retry-job'> {
    const { db, settings } = this.deps
    const repo = new ExecutionsRepository(db)
    const execution = await repo.get(job.executionId)
    if (execution === undefined || TERMINAL.has(execution.status)) return 'done'
    if (execution.steps !== job.step || execution.attempt !== job.attempt) return 'done'
    if (execution.nextNode === null) return 'done'

    if (Date.now() >= execution.deadlineAt.getTime()) {
      await this.fail(execution, `Execution timed out after ${settings.executionTimeoutMs} ms`, null, undefined, [])
      return 'done'
    }
    if (execution.steps >= settings.stepLimit) {
      await this.fail(execution, `Step limit of ${settings.stepLimit} nodes exceeded`, null, undefined, [])
      return 'done'
    }
    const spec = await this.spec(execution.flowId, execution.revision)
    const nodeId = execution.nextNode
    const node = spec.nodes[nodeId]
    const type = node === undefined ? undefined : nodeTypes.get(node.type)
    if (node === undefined || type === undefined) {
      await this.fail(execution, `Node ${nodeId} is not runnable`, nodeId, node?.type, [])
      return 'done'
    }

    const secrets = await this.deps.resolveSecrets(execution.accountId)
    const masker = new SecretMasker()
    for (const value of Object.values(secrets)) masker.add(value)
    const logs: NewLog[] = []
    // a line is stored with the step's commit; lines written after the node ran are published only once that
    // commit succeeded (a cancel in between must not leave subscribers with a "Node completed" that never was)
    const record: RecordLine = (level, message, data) => {
      const entry = { level, message: masker.text(message), nodeId, nodeType: node.type, ...(data === undefined ? {} : { data: masker.value(data) }) }
      logs.push(entry)
      return { type: 'log', execution_id: execution.id, level, message: entry.message, node_id: nodeId, node_type: node.type, ...(entry.data === undefined ? {} : { data: entry.data }), timestamp: now() }
    }
    const log = (level: NewLog['level'], message: string, data?: Record<string, unknown>): void => this.publish(record(level, message, data))

    if (execution.steps === 0 && execution.attempt === 1) {
      if (!(await repo.markRunning(execution.id))) return 'done'
      await repo.appendLogs(execution.id, [{ level: 'info', message: 'Execution started', nodeId, nodeType: node.type }])
      this.publish({ type: 'log', execution_id: execution.id, level: 'info', message: 'Execution started', node_id: nodeId, node_type: node.type, timestamp: now() })
    }
    this.publish({ type: 'execution_update', execution_id: execution.id, status: 'running', node_id: nodeId, node_type: node.type, timestamp: now() })
    // which replica ran the node: operators (and the cluster test) can tell where work went
    log('info', 'Node started', { worker: WORKER, ...(execution.attempt > 1 ? { attempt: execution.attempt } : {}) })

    const remainingMs = Math.max(0, execution.deadlineAt.getTime() - Date.now())
    const timeoutMs = Math.min(node.timeout_ms ?? settings.defaultNodeTimeoutMs, remainingMs)
    const controller = new AbortController()
    this.running.set(execution.id, controller)
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)])
    const scope: Scope = {
      input: execution.input,
      nodes: execution.nodes,
      secrets,
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
    } finally {
      this.running.delete(execution.id)
    }
    const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined
    if (reason === 'cancelled') return 'done'
    if (reason === 'shutdown') return 'retry-job'

    const durationMs = Date.now() - started
    if (outcome !== undefined) {
      await this.succeed(execution, spec, node, nodeId, outcome, durationMs, masker, logs, record)
      return 'done'
    }
    if (Date.now() >= execution.deadlineAt.getTime()) {
      // the execution's own deadline cut the node short: no retry, no error edge, the execution is over
      const error = `Execution timed out after ${settings.executionTimeoutMs} ms`
      const line = record('error', 'Node failed', { error, duration_ms: durationMs })
      await this.fail(execution, error, nodeId, node.type, logs, [line])
      return 'done'
    }
    const f = failure ?? new NodeFailure('Node failed', false)
    await this.failNode(execution, spec, node, nodeId, f, durationMs, masker, logs, record)
    return 'done'
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

  private async succeed(
    execution: Execution,
    spec: FlowSpec,
    node: NodeSpec,
    nodeId: string,
    outcome: NodeOutcome,
    durationMs: number,
    masker: SecretMasker,
    logs: NewLog[],
    record: RecordLine
  ): Promise<void> {
    const result = masker.value(outcome.result ?? null)
    const next = pickNext(node.next, { ok: true, ...(outcome.action === undefined ? {} : { action: outcome.action }) })
    const completedLine = record('info', 'Node completed', { duration_ms: durationMs, ...outcome.logData })
    const endLine = next === undefined ? record('info', 'Execution completed') : undefined
    const saved = await this.deps.db.transaction(async (tx) => {
      const repo = new ExecutionsRepository(tx)
      const ok = await repo.saveStep(execution.id, {
        nodeId,
        result,
        nextNode: next ?? null,
        attempt: 1,
        expect: { steps: execution.steps, attempt: execution.attempt },
        ...(next === undefined ? { final: { status: 'completed' as const, result } } : {})
      })
      if (!ok) return false
      await repo.appendLogs(execution.id, logs)
      if (next !== undefined) await this.send(tx, { executionId: execution.id, step: execution.steps + 1, attempt: 1 }, spec.nodes[next], outcome.deferMs ?? 0)
      return true
    })
    if (!saved) return
    this.publish(completedLine)
    this.publish({ type: 'node_completed', execution_id: execution.id, node_id: nodeId, node_type: node.type, result, timestamp: now() })
    if (endLine !== undefined) {
      this.stats.completed++
      this.publish(endLine)
      this.publish({ type: 'execution_completed', execution_id: execution.id, status: 'completed', result, timestamp: now() })
    } else if ((outcome.deferMs ?? 0) === 0) {
      this.kick()
    }
  }

  private async failNode(
    execution: Execution,
    spec: FlowSpec,
    node: NodeSpec,
    nodeId: string,
    failure: NodeFailure,
    durationMs: number,
    masker: SecretMasker,
    logs: NewLog[],
    record: RecordLine
  ): Promise<void> {
    const message = masker.text(failure.message)
    const maxAttempts = node.retry?.max_attempts ?? 1
    if (failure.retryable && execution.attempt < maxAttempts && Date.now() < execution.deadlineAt.getTime()) {
      const wait = backoff(node.retry?.backoff_ms ?? 1000, execution.attempt)
      const line = record('warn', `Attempt ${execution.attempt} of ${maxAttempts} failed: ${message}; retrying in ${wait} ms`, {
        attempt: execution.attempt,
        error: message,
        retry_in_ms: wait,
        ...failure.logData
      })
      const saved = await this.deps.db.transaction(async (tx) => {
        const repo = new ExecutionsRepository(tx)
        if (!(await repo.saveRetry(execution.id, { steps: execution.steps, attempt: execution.attempt }))) return false
        await repo.appendLogs(execution.id, logs)
        await this.send(tx, { executionId: execution.id, step: execution.steps, attempt: execution.attempt + 1 }, node, wait)
        return true
      })
      if (saved) this.publish(line)
      return
    }
    const failedLine = record('error', 'Node failed', { error: message, duration_ms: durationMs, ...failure.logData })
    const errorEdge = pickNext(node.next, { ok: false })
    if (errorEdge !== undefined) {
      const result = { error: message }
      const saved = await this.deps.db.transaction(async (tx) => {
        const repo = new ExecutionsRepository(tx)
        if (!(await repo.saveStep(execution.id, { nodeId, result, nextNode: errorEdge, attempt: 1, expect: { steps: execution.steps, attempt: execution.attempt } }))) return false
        await repo.appendLogs(execution.id, logs)
        await this.send(tx, { executionId: execution.id, step: execution.steps + 1, attempt: 1 }, spec.nodes[errorEdge])
        return true
      })
      if (saved) {
        this.publish(failedLine)
        this.publish({ type: 'node_completed', execution_id: execution.id, node_id: nodeId, node_type: node.type, result, timestamp: now() })
        this.kick()
      }
      return
    }
    await this.fail(execution, message, nodeId, node.type, logs, [failedLine])
  }

  /** Ends the execution as failed; `lines` are the step's log events, published once the failure is stored. */
  private async fail(
    execution: Execution,
    error: string,
    nodeId: string | null,
    nodeType: string | undefined,
    logs: NewLog[],
    lines: ExecutionEvent[] = []
  ): Promise<void> {
    const finished = await this.deps.db.transaction(async (tx) => {
      const repo = new ExecutionsRepository(tx)
      if (!(await repo.finish(execution.id, 'failed', error, nodeId))) return false
      await repo.appendLogs(execution.id, [...logs, { level: 'error', message: 'Execution failed', nodeId: nodeId ?? undefined, nodeType, data: { error } }])
      return true
    })
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
