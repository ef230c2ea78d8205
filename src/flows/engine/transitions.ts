import { randomUUID } from 'node:crypto'
import { domainError } from '../../errors.js'
import type { Driver } from '../../store/driver.js'
import { TERMINAL, type Execution, type NewExecution, type NewLog, type StepUpdate } from '../../store/execution-rows.js'
import type { ExecutionForRun, ExecutionsRepository } from '../../store/executions-repository.js'
import type { Owner } from '../../store/flows-repository.js'
import type { NodeSpec } from '../definition-schema.js'
import type { ExecutionEvent, ExecutionEvents } from './events.js'
import { finalEvent, logLine } from './records.js'
import type { OutgoingJob, StepJobs } from './step-jobs.js'

export interface TransitionDeps {
  db: Driver
  executions: ExecutionsRepository
  jobs: StepJobs
  events: ExecutionEvents
}

/** What this replica saw happen to executions (its metrics). */
export interface EngineStats {
  started: number
  completed: number
  failed: number
  cancelled: number
}

/** A node's saved result and where the execution goes from it. */
export interface Advance {
  nodeId: string
  nodeType: string
  result: unknown
  /** The next node's id, none when the execution ends here, and its spec. */
  next: string | undefined
  nextNode: NodeSpec | undefined
  deferMs: number
  /** Whether the same job runs the next node; otherwise a new job (deferred by `deferMs`) takes it on. */
  inline: boolean
  /** The job running the segment: completed by the save when its work ends there. */
  jobId: string
  /** The segment's unsaved log lines, saved (and emptied) with the step. */
  pending: NewLog[]
  /** Log events of those lines, to publish once the save succeeded. */
  lines: ExecutionEvent[]
}

/**
 * Every state change of an execution: each one is written to the store first (with its log lines, and the
 * job that continues it, in one statement or transaction) and its events are published only once it is
 * committed. A change that matches no row (cancelled meanwhile, or another worker got there first) publishes
 * nothing.
 */
export class Transitions {
  readonly stats: EngineStats = { started: 0, completed: 0, failed: 0, cancelled: 0 }

  constructor(private readonly deps: TransitionDeps) {}

  /** A new execution and its first job, for any worker to fetch. */
  async create(row: NewExecution, first: OutgoingJob): Promise<Execution> {
    const { db, executions, jobs } = this.deps
    const execution = await db.transaction(async (tx) => {
      const created = await executions.inTransaction(tx).create(row)
      await jobs.send(tx, row.jobId, first)
      return created
    })
    this.stats.started++
    return execution
  }

  /**
   * A new execution whose first job this worker claims as it is created, in one statement that also returns
   * what the worker reads before it starts a job (the execution and its account's sealed secrets).
   */
  async createClaimed(row: NewExecution, first: OutgoingJob): Promise<ExecutionForRun> {
    const loaded = await this.deps.executions.createForRun(row, this.deps.jobs.claimedInsert(row.jobId, first))
    this.stats.started++
    return loaded
  }

  /** A queued execution starts running: its start time, or undefined when it had been cancelled meanwhile. */
  markRunning(id: string): Promise<Date | undefined> {
    return this.deps.executions.markRunning(id)
  }

  /** Records the "Execution started" line into the segment's pending lines and publishes it. */
  started(executionId: string, nodeId: string | undefined, nodeType: string | undefined, pending: NewLog[]): void {
    const line = logLine(executionId, 'info', 'Execution started', { nodeId, nodeType })
    pending.push(line.row)
    this.publish(line.event)
  }

  /**
   * Saves a node's result (or its error, taking an error edge) and moves on: the execution ends when there is
   * no next node, continues in this job when `inline`, and is otherwise handed to a new job, deferred by a
   * delay, in the same transaction as the save. False when the save matched nothing.
   */
  async advance(execution: Execution, step: Advance): Promise<boolean> {
    const { db, executions, jobs } = this.deps
    const { nodeId, nodeType, result, next, inline } = step
    const end = next === undefined ? logLine(execution.id, 'info', 'Execution completed', { nodeId, nodeType }) : undefined
    if (end !== undefined) step.pending.push(end.row)
    const update: StepUpdate = {
      nodeId,
      result,
      nextNode: next ?? null,
      attempt: 1,
      expect: { steps: execution.steps, attempt: execution.attempt },
      ...(next === undefined ? { final: { status: 'completed' as const, result } } : {})
    }
    const logs = step.pending.splice(0)
    // when this save ends the job's work (the execution ends, or a new job takes it on), the job is completed
    // by the same statement
    const completeJob = !inline || next === undefined ? jobs.completeStatement(step.jobId) : undefined
    const saved = inline
      ? await executions.saveStep(execution.id, update, logs, completeJob)
      : await db.transaction(async (tx) => {
          const jobId = randomUUID()
          if (!(await executions.inTransaction(tx).saveStep(execution.id, { ...update, jobId }, logs, completeJob))) return false
          await jobs.send(tx, jobId, jobs.jobOf({ executionId: execution.id, step: execution.steps + 1, attempt: 1 }, step.nextNode), step.deferMs)
          return true
        })
    if (!saved) return false
    for (const line of step.lines) this.publish(line)
    this.publish({ type: 'node_completed', execution_id: execution.id, node_id: nodeId, node_type: nodeType, result, timestamp: new Date().toISOString() })
    if (end !== undefined) {
      this.stats.completed++
      this.publish(end.event)
      this.publishEnd({ id: execution.id, status: 'completed', result, error: null, nodeId: null }, undefined)
    }
    return true
  }

  /** A node attempt failed and is retried after `waitMs` by a new job: only the attempt counter moves. */
  async retry(execution: Execution, node: NodeSpec, waitMs: number, pending: NewLog[], line: ExecutionEvent): Promise<void> {
    const { db, executions, jobs } = this.deps
    const logs = pending.splice(0)
    const saved = await db.transaction(async (tx) => {
      const jobId = randomUUID()
      if (!(await executions.inTransaction(tx).saveRetry(execution.id, { steps: execution.steps, attempt: execution.attempt }, jobId, logs))) return false
      await jobs.send(tx, jobId, jobs.jobOf({ executionId: execution.id, step: execution.steps, attempt: execution.attempt + 1 }, node), waitMs)
      return true
    })
    if (saved) this.publish(line)
  }

  /**
   * Ends the execution as failed, with the segment's unsaved `logs`; `lines` are log events to publish once
   * the failure is stored. `completeJob`, a job id, is completed by the same statement (even when the
   * execution had already ended).
   */
  async fail(
    execution: Execution,
    error: string,
    nodeId: string | null,
    nodeType: string | undefined,
    logs: readonly NewLog[],
    lines: ExecutionEvent[] = [],
    completeJob?: string
  ): Promise<void> {
    const failed = logLine(execution.id, 'error', 'Execution failed', { nodeId: nodeId ?? undefined, nodeType, data: { error } })
    const also = completeJob === undefined ? undefined : this.deps.jobs.completeStatement(completeJob)
    if (!(await this.deps.executions.finish(execution.id, 'failed', error, nodeId, [...logs, failed.row], also))) return
    this.stats.failed++
    for (const line of lines) this.publish(line)
    this.publish(failed.event)
    this.publishEnd({ id: execution.id, status: 'failed', result: null, error, nodeId }, nodeType)
  }

  /**
   * Cancels a live execution: it ends now. `abort` stops its running node, if this process runs it, as soon
   * as the cancel is stored.
   */
  async cancel(id: string, owner: Owner, abort: () => void): Promise<void> {
    const { executions } = this.deps
    const execution = await executions.get(id, owner)
    if (execution === undefined) throw domainError('not_found', 'Execution not found')
    if (TERMINAL.has(execution.status)) throw domainError('conflict', `Execution already ${execution.status}`)
    const line = logLine(id, 'info', 'Execution cancelled')
    if (!(await executions.finish(id, 'cancelled', null, null, [line.row]))) throw domainError('conflict', 'Execution already finished')
    abort()
    this.stats.cancelled++
    this.publish(line.event)
    this.publishEnd({ id, status: 'cancelled', result: null, error: null, nodeId: null }, undefined)
  }

  private publishEnd(end: Parameters<typeof finalEvent>[0], nodeType: string | undefined): void {
    const event = finalEvent(end, nodeType, new Date())
    if (event !== undefined) this.publish(event)
  }

  private publish(event: ExecutionEvent): void {
    this.deps.events.publish(event)
  }
}
