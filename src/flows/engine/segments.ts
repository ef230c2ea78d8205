import { hostname } from 'node:os'
import type { QueueJob } from '../../queue/job-queue.js'
import type { Logger } from '../../util/logger.js'
import type { Config } from '../../config.js'
import { TERMINAL, type Execution, type NewLog } from '../../store/execution-rows.js'
import type { ExecutionForRun, ExecutionsRepository } from '../../store/executions-repository.js'
import type { SealedValue } from '../../store/secrets-repository.js'
import { isTransientError } from '../../store/transient-errors.js'
import { truncateText } from '../../util/json-bounds.js'
import type { FlowSpec, NodeSpec } from '../definition-schema.js'
import type { RunnableNode } from '../runtime/node-runtime.js'
import { SecretMasker } from '../runtime/secret-masker.js'
import type { Children } from './children.js'
import { failUnsaved } from './fail-unsaved.js'
import { failureWait, oversized, resumableWait } from './failure-wait.js'
import { resumeWait, startChildren } from './node-waits.js'
import type { ExecutionEvent, ExecutionEvents } from './events.js'
import { boundLogData, logLine } from './records.js'
import type { SpecCache } from './spec-cache.js'
import { JOB_EXPIRY_MARGIN_S, type StepJob, type StepJobs } from './step-jobs.js'
import { pickNext, runStep, type AbortReason, type StepResult, type StepRunnerDeps } from './step-runner.js'
import type { Transitions } from './transitions.js'

/** This process, as `host:pid`. */
const WORKER = `${hostname()}:${process.pid}`

export interface SegmentDeps extends StepRunnerDeps {
  executions: ExecutionsRepository
  jobs: StepJobs
  transitions: Transitions
  events: ExecutionEvents
  specs: SpecCache
  children: Children
  nodeTypes: ReadonlyMap<string, RunnableNode>
  /** An account's secrets in plain text, from the sealed values read with its execution. */
  openSecrets: (accountId: string, sealed: ReadonlyMap<string, SealedValue>) => Record<string, string>
  executionTimeoutMs: number
  stepLimit: number
  /** Sizes an execution may write: node results, log data, error texts. */
  limits: Config['flowRunner']['limits']
  /** The server's log: an execution failed for a reason of the engine's own is an operator's business too. */
  log: Logger
  /** Whether the worker is stopping: a segment then starts no further node. */
  stopping: () => boolean
  kick: () => void
}

/**
 * How a job ends: done (to be completed), already completed (by the statement that saved its last node), or
 * handed back to the queue (this worker is stopping).
 */
type Settled = 'done' | 'completed' | 'retry-job'

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

/**
 * Runs the execution a job owns, node after node, for as long as the job may stay claimed: each node's
 * result, next node and log lines are saved in one statement before the next node starts, so a crash
 * resumes from the last saved node (the job is retried with the same id). A wait (delay, retry back-off),
 * a node that might outlive the job's expiry, or the end of the execution ends the segment.
 */
export class Segments {
  private readonly running = new Map<string, AbortController>()

  constructor(private readonly deps: SegmentDeps) {}

  /** Aborts the node this process is running for the execution, if any. */
  abort(id: string, reason: AbortReason): void {
    this.running.get(id)?.abort(reason)
  }

  abortAll(reason: AbortReason): void {
    for (const controller of this.running.values()) controller.abort(reason)
  }

  /** Runs a claimed job and settles it with the queue; `preloaded` is its execution when it was just created. */
  async handle(job: QueueJob<StepJob>, claimedAt: number, preloaded?: ExecutionForRun): Promise<void> {
    // claimed while this worker was stopping (a run that began before stop()): another worker takes it
    const settled = this.deps.stopping() ? 'retry-job' : await this.segment(job, claimedAt, preloaded)
    if (settled === 'retry-job') await this.deps.jobs.retry(job.id, 'worker stopping')
    else if (settled === 'done') await this.deps.jobs.complete(job.id)
  }

  /**
   * The segment's abort controller is registered before the execution is read: a cancel that commits after
   * the read (which then saw the execution live) reaches it, and no node starts.
   */
  private async segment(job: QueueJob<StepJob>, claimedAt: number, preloaded?: ExecutionForRun): Promise<Settled> {
    const id = job.data.executionId
    const controller = new AbortController()
    this.running.set(id, controller)
    try {
      return await this.runSegment(job, claimedAt, controller, preloaded)
    } finally {
      if (this.running.get(id) === controller) this.running.delete(id)
    }
  }

  private async runSegment(job: QueueJob<StepJob>, claimedAt: number, controller: AbortController, preloaded?: ExecutionForRun): Promise<Settled> {
    const { transitions } = this.deps
    // a job claimed as its execution was created comes with the execution as created
    // read, and marked running when this job owns it, in one statement
    const found = preloaded ?? (await this.deps.executions.getForRun(job.data.executionId, job.id))
    if (found === undefined) return 'done'
    const loaded = found.execution
    if (TERMINAL.has(loaded.status) || loaded.nextNode === null) return 'done'
    // a job superseded by a newer one (it expired while its worker still ran and was handed on) does nothing
    const current = loaded.jobId === null ? loaded.steps === job.data.step && loaded.attempt === job.data.attempt : loaded.jobId === job.id
    if (!current) return 'done'
    // a child whose parent ended after the cancel that swept its siblings had read the tree: it never runs
    if (found.orphaned === true) {
      await transitions.cancelOrphan(loaded)
      return 'done'
    }
    let startedAt = found.startedAt ?? loaded.startedAt
    if ((loaded.status === 'queued' || loaded.status === 'waiting') && found.startedAt === undefined) {
      // cancelled between the read and its update, or a row from before jobs were recorded on it
      if (loaded.jobId !== null) return 'done'
      startedAt = (await transitions.markRunning(loaded.id)) ?? null
      if (startedAt === null) return 'done'
    }
    const spec = await this.deps.specs.get(loaded.flowId, loaded.revision)
    const secrets = this.deps.openSecrets(loaded.accountId, found.sealed)
    const masker = new SecretMasker()
    for (const value of Object.values(secrets)) masker.add(value)
    const run: SegmentRun = {
      spec,
      secrets,
      masker,
      controller,
      pending: [],
      jobId: job.id,
      // the job expires expireS after it was claimed; a node is started inside it only if it ends well before
      deadline: claimedAt + (job.data.expireS ?? 0) * 1000 - JOB_EXPIRY_MARGIN_S * 500
    }
    let execution: Execution = { ...loaded, status: 'running', startedAt }
    try {
      if (execution.steps === 0 && execution.attempt === 1 && execution.lastNode === null && execution.waiting === null) {
        const nodeId = execution.nextNode ?? undefined
        transitions.started(execution.id, nodeId, nodeId === undefined ? undefined : spec.nodes[nodeId]?.type, run.pending)
      }
      for (;;) {
        const outcome = await this.runNode(execution, run)
        if (typeof outcome === 'string') return outcome
        execution = outcome
      }
    } catch (err) {
      // a database that is briefly away, or a worker stopping: the job is retried and resumes from the last
      // saved node; anything else (a value that can't be serialised or that the database refuses) would fail
      // the same way each time, running the node again (a webhook sent again) until the execution's deadline
      if (this.deps.stopping() || isTransientError(err)) throw err
      return await failUnsaved({ log: this.deps.log, transitions }, execution, run, err)
    }
  }

  /** Whether the next node may run inside this job: no wait before it, and it ends before the job could expire. */
  private canContinue(run: SegmentRun, next: NodeSpec | undefined, deferMs: number): boolean {
    if (deferMs > 0 || this.deps.stopping() || run.controller.signal.aborted) return false
    const timeoutMs = next?.timeout_ms ?? this.deps.defaultNodeTimeoutMs
    return Date.now() + timeoutMs <= run.deadline
  }

  /** Runs the execution's next node; returns the execution as saved when the segment goes on with the next one. */
  private async runNode(execution: Execution, run: SegmentRun): Promise<Execution | Settled> {
    const { transitions, executionTimeoutMs, stepLimit, limits } = this.deps
    const { spec, masker, pending } = run
    if (Date.now() >= execution.deadlineAt.getTime()) {
      await transitions.fail(execution, `Execution timed out after ${executionTimeoutMs} ms`, null, undefined, pending)
      return 'done'
    }
    if (execution.steps >= stepLimit) {
      await transitions.fail(execution, `Step limit of ${stepLimit} nodes exceeded`, null, undefined, pending)
      return 'done'
    }
    // cancelled (or stopping) since the execution was read: no node starts
    if (run.controller.signal.aborted) return run.controller.signal.reason === 'shutdown' ? 'retry-job' : 'done'
    const nodeId = execution.nextNode ?? ''
    const node = spec.nodes[nodeId]
    const type = node === undefined ? undefined : this.deps.nodeTypes.get(node.type)
    if (node === undefined || type === undefined) {
      await transitions.fail(execution, `Node ${nodeId} is not runnable`, nodeId, node?.type, pending)
      return 'done'
    }

    // a line is stored with the step's save; lines written after the node ran are published only once that
    // save succeeded (a cancel in between must not leave subscribers with a "Node completed" that never was)
    const record = (level: NewLog['level'], message: string, data?: Record<string, unknown>): ExecutionEvent => {
      const text = truncateText(masker.text(message), limits.maxErrorChars)
      const line = logLine(execution.id, level, text, { nodeId, nodeType: node.type, data: data === undefined ? undefined : masker.value(boundLogData(data, limits)) })
      pending.push(line.row)
      return line.event
    }
    const publish = (event: ExecutionEvent): void => this.deps.events.publish(event)

    // a node that waited (a delay whose time is up, children that all ended) resumes where it was: it is not
    // run again, and its duration counts the wait
    const waited = resumableWait(execution, nodeId)
    publish({ type: 'execution_update', execution_id: execution.id, status: 'running', node_id: nodeId, node_type: node.type, timestamp: new Date().toISOString() })
    let step: StepResult
    if (waited === undefined) {
      // which replica ran the node: operators (and the cluster test) can tell where work went
      publish(record('info', 'Node started', { worker: WORKER, ...(execution.attempt > 1 ? { attempt: execution.attempt } : {}) }))
      step = await runStep(this.deps, { execution, node, type, secrets: run.secrets, controller: run.controller, log: (level, message, data) => publish(record(level, message, data)) })
    } else {
      step = await resumeWait(this.deps.children, execution, waited)
    }
    if (step.kind === 'aborted') return step.reason === 'shutdown' ? 'retry-job' : 'done'
    // checked before anything copies or serialises the result: too large or too deep, the node failed
    if (step.kind === 'ok') {
      const tooBig = oversized(step.outcome.result, this.deps.limits)
      if (tooBig !== undefined) step = { kind: 'failed', failure: tooBig, durationMs: step.durationMs }
    }

    if (step.kind === 'ok' && step.outcome.spawn !== undefined) {
      const spawned = await startChildren(this.deps, execution, { nodeId, node, jobId: run.jobId, pending: run.pending }, step.outcome, record)
      if (spawned === 'waiting') return 'completed'
      // cancelled meanwhile: nothing was saved, the job is completed as it ends
      if (spawned === 'lost') return 'done'
      step = spawned
    }
    if (step.kind === 'ok' && (step.outcome.deferMs ?? 0) > 0) {
      const waitMs = step.outcome.deferMs ?? 0
      const since = Date.now() - step.durationMs
      const line = record('info', `Waiting ${waitMs} ms`, { wait_ms: waitMs })
      const state = { kind: 'delay' as const, node: nodeId, since, until: since + waitMs }
      return (await transitions.wait(execution, node, state, waitMs, run.jobId, pending, line)) ? 'completed' : 'done'
    }
    if (step.kind === 'ok') {
      const { outcome } = step
      const result = masker.value(outcome.result ?? null)
      const next = pickNext(node.next, { ok: true, ...(outcome.action === undefined ? {} : { action: outcome.action }) })
      const completedLine = record('info', 'Node completed', { duration_ms: step.durationMs, ...outcome.logData })
      return this.advance(execution, run, { nodeId, node, result, next, deferMs: 0, lines: [completedLine] })
    }
    if (step.kind === 'deadline') {
      const error = `Execution timed out after ${executionTimeoutMs} ms`
      const line = record('error', 'Node failed', { error, duration_ms: step.durationMs })
      await transitions.fail(execution, error, nodeId, node.type, pending, [line])
      return 'done'
    }
    const { failure } = step
    const message = truncateText(masker.text(failure.message), limits.maxErrorChars)
    const wait = failureWait(execution, nodeId, node, failure, message)
    if (wait !== undefined) {
      const line = record(wait.line.level, wait.line.message, wait.line.data)
      return (await transitions.wait(execution, node, wait.state, wait.waitMs, run.jobId, pending, line)) ? 'completed' : 'done'
    }
    const failedLine = record('error', 'Node failed', { error: message, duration_ms: step.durationMs, ...failure.logData })
    const errorEdge = pickNext(node.next, { ok: false })
    if (errorEdge !== undefined) {
      return this.advance(execution, run, { nodeId, node, result: { error: message }, next: errorEdge, deferMs: 0, lines: [failedLine] })
    }
    await transitions.fail(execution, message, nodeId, node.type, pending, [failedLine])
    return 'done'
  }

  /** Saves the node's result and goes on: in this segment when it can, else the segment ends. */
  private async advance(
    execution: Execution,
    run: SegmentRun,
    step: { nodeId: string; node: NodeSpec; result: unknown; next: string | undefined; deferMs: number; lines: ExecutionEvent[] }
  ): Promise<Execution | Settled> {
    const { nodeId, result, next, deferMs } = step
    const nextNode = next === undefined ? undefined : run.spec.nodes[next]
    const inline = next === undefined || this.canContinue(run, nextNode, deferMs)
    const saved = await this.deps.transitions.advance(execution, {
      nodeId,
      nodeType: step.node.type,
      result,
      next,
      nextNode,
      deferMs,
      inline,
      jobId: run.jobId,
      pending: run.pending,
      lines: step.lines
    })
    if (!saved) return 'done'
    if (next === undefined) return 'completed'
    if (!inline) {
      if (deferMs === 0) this.deps.kick()
      return 'completed'
    }
    return { ...execution, nodes: { ...execution.nodes, [nodeId]: result }, nextNode: next, attempt: 1, steps: execution.steps + 1, lastNode: nodeId, waiting: null }
  }
}
