import type { JobQueue, QueueJob } from '../../queue/job-queue.js'
import type { Queryable } from '../../store/driver.js'
import type { AlsoStatement } from '../../store/execution-log-sql.js'
import type { NodeSpec } from '../definition-schema.js'

export const STEP_QUEUE = 'flowrunner-step'

export interface StepJob {
  executionId: string
  /** The execution's account, which the worker's slots are shared between; absent in jobs sent before it was
   * added, which count as one account (ANONYMOUS_ACCOUNT). */
  accountId?: string
  /** The execution's step count and attempt when the job was sent (what a job is matched on for old rows). */
  step: number
  attempt: number
  /** The job's expiry in seconds, as sent: it bounds how many nodes the job may run before handing off. */
  expireS?: number
}

/** The account of jobs that name none. */
export const ANONYMOUS_ACCOUNT = ''

/** The account whose slots a job takes. */
export function accountOf(job: StepJob): string {
  return job.accountId ?? ANONYMOUS_ACCOUNT
}

/** A job to send, with its expiry. */
export interface OutgoingJob {
  data: StepJob
  expireS: number
}

/** Seconds a job's expiry exceeds its first node's timeout; a segment stops starting nodes half of it before. */
export const JOB_EXPIRY_MARGIN_S = 10
/** How often pg-boss retries a job whose worker died or handed it back. */
const JOB_RETRY_LIMIT = 5

/**
 * The step queue: one job continues an execution at a node. The execution row, not the job, says where to
 * resume; a job only says which execution, and owns it while it is claimed.
 */
export class StepJobs {
  /** The account of each execution a job of this worker runs, with how many of its jobs do. */
  private readonly running = new Map<string, { accountId: string | undefined; jobs: number }>()

  constructor(
    private readonly queue: JobQueue,
    private readonly defaultNodeTimeoutMs: number,
    /** Wakes the worker, for a deferred job when it becomes due. */
    private readonly kick: () => void
  ) {}

  createQueue(): Promise<void> {
    return this.queue.createQueue(STEP_QUEUE)
  }

  /** Up to `max` jobs, none beyond `cap` for an account given the jobs it holds (`running`), taking turns. */
  fetch(max: number, running: ReadonlyMap<string, number>, cap: number): Promise<Array<QueueJob<StepJob>>> {
    return this.queue.fetchFair<StepJob>(STEP_QUEUE, max, { groupBy: 'accountId', running, cap })
  }

  /**
   * Runs `work`, the work of claimed job `job`; meanwhile the jobs `jobOf` makes for its execution name its
   * account (the transitions that make them name only the execution).
   */
  async holding(job: StepJob, work: () => Promise<void>): Promise<void> {
    const held = this.running.get(job.executionId) ?? { accountId: job.accountId, jobs: 0 }
    held.jobs++
    this.running.set(job.executionId, held)
    try {
      await work()
    } finally {
      if (--held.jobs === 0) this.running.delete(job.executionId)
    }
  }

  complete(id: string): Promise<void> {
    return this.queue.complete(STEP_QUEUE, id)
  }

  /** Hands the job back to the queue for another worker (this one is stopping). */
  retry(id: string, reason: string): Promise<void> {
    return this.queue.fail(STEP_QUEUE, id, reason)
  }

  /** Completes job `id` inside another statement, the state change that ends the job's work. */
  completeStatement(id: string): AlsoStatement {
    return (first) => this.queue.completeStatement(STEP_QUEUE, id, first)
  }

  /** Job `id`, already claimed by this worker, inserted inside the statement that creates its execution. */
  claimedInsert(id: string, job: OutgoingJob): AlsoStatement {
    return (first) => this.queue.claimedInsert(STEP_QUEUE, job.data, { id, expireInSeconds: job.expireS, retryLimit: JOB_RETRY_LIMIT }, first)
  }

  /** A job continuing at `node`, with its expiry: the node's own timeout, not the default (a job that expires
   * while its node still runs is handed to a second worker, which runs the node again alongside the first).
   * It names the execution's account: `job`'s, or else the one of the job this worker runs for the execution. */
  jobOf(job: Omit<StepJob, 'expireS'>, node: NodeSpec | undefined): OutgoingJob {
    const expireS = Math.ceil((node?.timeout_ms ?? this.defaultNodeTimeoutMs) / 1000) + JOB_EXPIRY_MARGIN_S
    const accountId = job.accountId ?? this.running.get(job.executionId)?.accountId
    return { data: { ...job, ...(accountId === undefined ? {} : { accountId }), expireS }, expireS }
  }

  /** Enqueues several jobs (made by `jobOf`) in one statement inside `tx`; none is deferred. */
  async sendMany(tx: Queryable, jobs: ReadonlyArray<{ id: string; job: OutgoingJob }>): Promise<void> {
    await this.queue.sendMany(
      STEP_QUEUE,
      jobs.map(({ id, job }) => ({ id, data: job.data, expireInSeconds: job.expireS, retryLimit: JOB_RETRY_LIMIT })),
      tx
    )
  }

  /**
   * Enqueues job `id` (made by `jobOf`), which continues the execution at a node; the caller has stored the id
   * on the execution in the same transaction (and sends nothing when that store matched no row). The job stays
   * claimed as long as that node may run, plus a margin; a worker that died holding it loses it after that and
   * the job is retried elsewhere, resuming from the last saved node.
   */
  async send(tx: Queryable, id: string, job: OutgoingJob, deferMs = 0): Promise<void> {
    await this.queue.send(STEP_QUEUE, job.data, {
      id,
      tx,
      ...(deferMs > 0 ? { startAfter: new Date(Date.now() + deferMs) } : {}),
      expireInSeconds: job.expireS,
      // retried at once (pg-boss's default, as for the claimed first job): a job is retried only when its worker
      // died or stopped, and the execution row, not the job, says where to resume
      retryLimit: JOB_RETRY_LIMIT
    })
    if (deferMs > 0) setTimeout(this.kick, deferMs).unref()
  }
}
