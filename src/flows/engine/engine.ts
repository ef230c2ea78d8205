import { randomUUID } from 'node:crypto'
import type { Agent } from 'undici'
import type { JobQueue, QueueJob } from '../../queue/job-queue.js'
import type { Driver, Queryable } from '../../store/driver.js'
import type { Execution, NewExecution, TriggeredBy } from '../../store/execution-rows.js'
import type { ExecutionsRepository } from '../../store/executions-repository.js'
import type { Owner } from '../../store/flows-repository.js'
import type { SealedValue } from '../../store/secrets-repository.js'
import type { Logger } from '../../util/logger.js'
import type { FlowSpec, NodeSpec } from '../definition-schema.js'
import type { RerunPlan } from '../rerun-plan.js'
import type { ExpressionPool } from '../runtime/expression-pool.js'
import type { RunContext, RunnableNode } from '../runtime/node-runtime.js'
import type { ExecutionEvents } from './events.js'
import { IdempotencyRepository } from '../../store/idempotency-repository.js'
import { Housekeeping } from './housekeeping.js'
import { Segments, type SegmentDeps } from './segments.js'
import { SpecCache } from './spec-cache.js'
import { Children } from './children.js'
import { Creations } from './creations.js'
import { accountOf, STEP_QUEUE, StepJobs, type StepJob } from './step-jobs.js'
import { Transitions, type EngineStats } from './transitions.js'
import { Worker } from './worker.js'


export interface EngineSettings {
  concurrency: number
  /** Slots one account's executions may hold at once. */
  accountConcurrency: number
  executionTimeoutMs: number
  stepLimit: number
  retentionDays: number
  maxResponseBytes: number
  /** A node without `timeout` gets this; it also bounds how long a dead worker's step stays claimed. */
  defaultNodeTimeoutMs: number
  /** How often the worker looks for jobs it was not woken for (other replicas' and deferred ones). */
  pollIntervalMs: number
  /** Sizes an execution may write (node results, log data, error texts). */
  limits: SegmentDeps['limits']
}

export interface EngineDeps {
  db: Driver
  executions: ExecutionsRepository
  queue: JobQueue
  events: ExecutionEvents
  /** Worker threads for the flows' expressions. */
  expressions: ExpressionPool
  http: Agent
  /** The node types a flow may use, by name. */
  nodeTypes: ReadonlyMap<string, RunnableNode>
  loadSpec: (flowId: string, revision: number) => Promise<FlowSpec | undefined>
  /** The latest revision of a flow the account owns, for a `flow` or `foreach` node (undefined: none such). */
  resolveFlow: (flowId: string, accountId: string) => Promise<{ id: string; revision: number } | undefined>
  /** An account's secrets in plain text, from the sealed values read with its execution. */
  openSecrets: (accountId: string, sealed: ReadonlyMap<string, SealedValue>) => Record<string, string>
  evercycle: RunContext['evercycle']
  log: Logger
  settings: EngineSettings
}

/**
 * Runs executions durably, one node per queue job. After each node its result, the next node id and its log
 * lines commit in one transaction together with the job for the next node, so a crash anywhere resumes from
 * the last completed node (a node may run twice: at-least-once). Waits (delays, retry back-off) are deferred
 * jobs, so they hold no worker slot. The parts: the worker (slots and the fetch loop), the segments (a job's
 * run of nodes, each by the step runner), the transitions (every state change and its events) and
 * housekeeping.
 */
export class Engine {
  private readonly worker: Worker<QueueJob<StepJob>>
  private readonly jobs: StepJobs
  private readonly specs: SpecCache
  private readonly transitions: Transitions
  private readonly segments: Segments
  private readonly housekeeping: Housekeeping
  private readonly children: Children
  private readonly creations: Creations

  constructor(private readonly deps: EngineDeps) {
    const { settings } = deps
    this.worker = new Worker({
      concurrency: settings.concurrency,
      accountConcurrency: settings.accountConcurrency,
      pollIntervalMs: settings.pollIntervalMs,
      accountOf: (job) => accountOf(job.data),
      fetch: (max, running) => this.jobs.fetch(max, running, settings.accountConcurrency),
      handle: (job, claimedAt) => this.jobs.holding(job.data, () => this.segments.handle(job, claimedAt)),
      log: deps.log
    })
    this.jobs = new StepJobs(deps.queue, settings.defaultNodeTimeoutMs, () => this.worker.kick())
    this.specs = new SpecCache(deps.loadSpec)
    this.children = new Children({
      db: deps.db,
      jobs: this.jobs,
      specs: this.specs,
      resolveFlow: deps.resolveFlow,
      maxResultBytes: settings.limits.maxResultBytes,
      cancelled: (ids) => this.transitions.cancelled(ids)
    })
    this.transitions = new Transitions({
      db: deps.db,
      executions: deps.executions,
      jobs: this.jobs,
      events: deps.events,
      children: this.children,
      abort: (id) => this.abortLocal(id),
      kick: () => this.worker.kick()
    })
    this.creations = new Creations({ db: deps.db, executions: deps.executions, jobs: this.jobs, stats: this.transitions.stats })
    this.segments = new Segments({
      executions: deps.executions,
      jobs: this.jobs,
      transitions: this.transitions,
      events: deps.events,
      specs: this.specs,
      children: this.children,
      nodeTypes: deps.nodeTypes,
      openSecrets: deps.openSecrets,
      expressions: deps.expressions,
      http: deps.http,
      evercycle: deps.evercycle,
      maxResponseBytes: settings.maxResponseBytes,
      defaultNodeTimeoutMs: settings.defaultNodeTimeoutMs,
      executionTimeoutMs: settings.executionTimeoutMs,
      stepLimit: settings.stepLimit,
      limits: settings.limits,
      log: deps.log,
      stopping: () => this.worker.stopped,
      kick: () => this.worker.kick()
    })
    this.housekeeping = new Housekeeping({
      executions: deps.executions,
      idempotency: new IdempotencyRepository(deps.db),
      transitions: this.transitions, retentionDays: settings.retentionDays, log: deps.log })
  }

  /** Executions this replica started, and those it saw end. */
  get stats(): Readonly<EngineStats> {
    return this.transitions.stats
  }

  get busy(): number {
    return this.worker.busy
  }

  get hasFreeSlot(): boolean {
    return this.worker.hasFreeSlot
  }

  async start(): Promise<void> {
    await this.jobs.createQueue()
    this.worker.start()
    this.housekeeping.start()
  }

  /** Stops taking jobs; running nodes are aborted and their jobs handed back to the queue for another worker. */
  async stop(): Promise<void> {
    this.housekeeping.stop()
    await this.worker.stop(() => this.segments.abortAll('shutdown'))
  }

  /** Starts an execution of a flow revision: the row and its first job are created together. */
  async run(flow: { id: string; revision: number; accountId: string }, input: unknown): Promise<Execution> {
    const spec = await this.specs.get(flow.id, flow.revision)
    return this.begin(flow, input, spec.start, undefined)
  }

  /**
   * Runs an ended execution again as a new one (`rerun_of` names it): at the node `from` names, or the one
   * that failed, with the results of the nodes that completed before it carried over (rerun-plan.ts decides
   * where it starts and what it carries). A `foreach` node it starts at reuses the items that completed.
   */
  async rerun(original: Execution, plan: RerunPlan): Promise<Execution> {
    return this.begin({ id: original.flowId, revision: plan.revision, accountId: original.accountId }, plan.input, plan.startNode, { rerunOf: original.id, nodes: plan.nodes })
  }

  /**
   * Creates an execution inside the caller's transaction, so that it exists exactly when what else the
   * transaction writes does (a schedule's tick moving on, an idempotency key claimed). `start` is the
   * revision's start node. Call `created` once the transaction has committed.
   */
  async createIn(
    tx: Queryable,
    flow: { id: string; revision: number; accountId: string },
    start: { id: string; node: NodeSpec | undefined },
    input: unknown,
    triggeredBy: TriggeredBy | undefined,
    id = `exec-${randomUUID()}`
  ): Promise<Execution> {
    const row: NewExecution = {
      id,
      flowId: flow.id,
      revision: flow.revision,
      accountId: flow.accountId,
      status: 'queued',
      input: input ?? {},
      startNode: start.id,
      deadlineAt: new Date(Date.now() + this.deps.settings.executionTimeoutMs),
      jobId: randomUUID(),
      ...(triggeredBy === undefined ? {} : { triggeredBy })
    }
    const first = this.jobs.jobOf({ executionId: row.id, accountId: flow.accountId, step: 0, attempt: 1 }, start.node)
    return this.creations.createIn(tx, row, first)
  }

  /** `n` executions made by `createIn` committed: counted, and the worker looks for their jobs now. */
  created(n: number): void {
    if (n === 0) return
    this.creations.counted(n)
    this.worker.kick()
  }

  /** A flow revision's spec (cached). */
  spec(flowId: string, revision: number): Promise<FlowSpec> {
    return this.specs.get(flowId, revision)
  }

  private async begin(
    flow: { id: string; revision: number; accountId: string },
    input: unknown,
    startNode: string,
    rerun: { rerunOf: string; nodes: Record<string, unknown> } | undefined
  ): Promise<Execution> {
    const spec = await this.specs.get(flow.id, flow.revision)
    // a worker with a free slot runs the execution itself: its first job is claimed as it is created, so the
    // first node starts right after the commit instead of after the next fetch from the queue; not when the
    // account already holds its share of the slots
    const status = this.worker.hasFreeSlotFor(flow.accountId) ? 'running' : 'queued'
    const local = status === 'running' && !this.worker.stopped
    if (local) this.worker.claim(flow.accountId)
    const claimedAt = Date.now()
    const row: NewExecution = {
      id: `exec-${randomUUID()}`,
      flowId: flow.id,
      revision: flow.revision,
      accountId: flow.accountId,
      status,
      input: input ?? {},
      startNode,
      deadlineAt: new Date(Date.now() + this.deps.settings.executionTimeoutMs),
      jobId: randomUUID(),
      ...rerun
    }
    const first = this.jobs.jobOf({ executionId: row.id, accountId: flow.accountId, step: 0, attempt: 1 }, spec.nodes[startNode])
    if (!local) {
      const execution = await this.creations.create(row, first)
      this.worker.kick()
      return execution
    }
    let loaded
    try {
      loaded = await this.creations.createClaimed(row, first)
    } catch (err) {
      this.worker.release(flow.accountId)
      throw err
    }
    const job: QueueJob<StepJob> = { id: row.jobId, name: STEP_QUEUE, data: first.data }
    this.worker.dispatch(flow.accountId, () => this.jobs.holding(job.data, () => this.segments.handle(job, claimedAt, loaded)))
    return loaded.execution
  }

  /** Cancels a live execution: it ends now, its running node is aborted, and nothing after it runs. */
  async cancel(id: string, owner: Owner): Promise<void> {
    await this.transitions.cancel(id, owner, () => this.abortLocal(id))
  }

  /** Aborts the node this process is running for the execution, if any (cancel from here or another replica). */
  abortLocal(id: string): void {
    this.segments.abort(id, 'cancelled')
  }

  /** The type of a node in a flow revision: messages rebuilt from stored state name it as live ones do. */
  nodeType(flowId: string, revision: number, nodeId: string): Promise<string | undefined> {
    return this.specs.nodeType(flowId, revision, nodeId)
  }
}
