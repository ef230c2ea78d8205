import { randomUUID } from 'node:crypto'
import { domainError } from '../../errors.js'
import type { Driver } from '../../store/driver.js'
import { TERMINAL, type Execution, type NewLog, type StepUpdate, type WaitState } from '../../store/execution-rows.js'
import type { ExecutionsRepository } from '../../store/executions-repository.js'
import type { Owner } from '../../store/flows-repository.js'
import type { NodeSpec } from '../definition-schema.js'
import { MAX_CANCEL_PASSES, type Children, type PreparedSpawn } from './children.js'
import type { ExecutionEvent, ExecutionEvents } from './events.js'
import { finalEvent, logLine } from './records.js'
import type { StepJobs } from './step-jobs.js'

export interface TransitionDeps {
  db: Driver
  executions: ExecutionsRepository
  jobs: StepJobs
  events: ExecutionEvents
  children: Children
  /** Stops the node this process runs for an execution, if any (a cancelled child). */
  abort: (executionId: string) => void
  /** Wakes the worker: jobs were sent that it may take. */
  kick: () => void
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
/** A save inside a transaction matched nothing: the transaction is rolled back. */
class LostRace extends Error {}

export class Transitions {
  readonly stats: EngineStats = { started: 0, completed: 0, failed: 0, cancelled: 0 }

  constructor(private readonly deps: TransitionDeps) {}

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
      ? next === undefined
        ? await this.ending(execution, false, (repo) => repo.saveStep(execution.id, update, logs, completeJob))
        : await executions.saveStep(execution.id, update, logs, completeJob)
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

  /**
   * The execution waits: for a node attempt that failed to be retried (`retry`: the attempt counter moves) or
   * for a delay to pass, holding no worker. A new job, deferred by `waitMs`, takes it on; `jobId`, the job
   * running the segment, is completed by the same statement. False when the save matched nothing.
   */
  async wait(
    execution: Execution,
    node: NodeSpec,
    state: Extract<WaitState, { kind: 'retry' | 'delay' | 'upstream' }>,
    waitMs: number,
    jobId: string,
    pending: NewLog[],
    line: ExecutionEvent
  ): Promise<boolean> {
    const { db, executions, jobs } = this.deps
    const logs = pending.splice(0)
    const retry = state.kind === 'retry'
    const saved = await db.transaction(async (tx) => {
      const next = randomUUID()
      const expect = { steps: execution.steps, attempt: execution.attempt }
      if (!(await executions.inTransaction(tx).saveWait(execution.id, expect, { state, nextAttempt: retry, jobId: next }, logs, jobs.completeStatement(jobId)))) {
        return false
      }
      await jobs.send(tx, next, jobs.jobOf({ executionId: execution.id, step: execution.steps, attempt: execution.attempt + (retry ? 1 : 0) }, node), waitMs)
      return true
    })
    if (saved) {
      this.publish(line)
      this.publishWaiting(execution.id, state.node, node.type)
    }
    return saved
  }

  /**
   * A node starts its children (prepared by Children) and the execution waits for them, holding no worker: in
   * one transaction, the children, the first ones' jobs, the wait and the end of job `jobId`. 'none' when there
   * is nothing to wait for (no items, or every one reused): the node collects at once. 'lost' when the save
   * matched nothing.
   */
  async waitForChildren(execution: Execution, nodeType: string, prepared: PreparedSpawn, jobId: string, pending: NewLog[], line: ExecutionEvent): Promise<'waiting' | 'none' | 'lost'> {
    const { db, executions, jobs, children } = this.deps
    const outcome = await db.transaction(async (tx) => {
      const count = await children.create(tx, prepared)
      if (count === 0) return 'none'
      const expect = { steps: execution.steps, attempt: execution.attempt }
      const wait = { state: prepared.state, nextAttempt: false, jobId: null, childrenPending: count }
      if (!(await executions.inTransaction(tx).saveWait(execution.id, expect, wait, pending, jobs.completeStatement(jobId)))) throw new LostRace()
      return 'waiting'
    }).catch((err: unknown) => {
      if (err instanceof LostRace) return 'lost' as const
      throw err
    })
    if (outcome === 'waiting') {
      pending.length = 0
      this.publish(line)
      this.publishWaiting(execution.id, prepared.state.node, nodeType)
      this.deps.kick()
    }
    return outcome
  }

  private publishWaiting(id: string, nodeId: string, nodeType: string): void {
    this.publish({ type: 'execution_update', execution_id: id, status: 'waiting', node_id: nodeId, node_type: nodeType, timestamp: new Date().toISOString() })
  }

  /**
   * Runs `end`, the statement that ends `execution`, and for a child its parent's part (count it, start the
   * next item, wake the parent after the last) in the same transaction.
   */
  private async ending(execution: Execution, failed: boolean, end: (repo: ExecutionsRepository) => Promise<boolean>): Promise<boolean> {
    if (execution.parent === null) return end(this.deps.executions)
    let sent = false
    const ended = await this.deps.db.transaction(async (tx) => {
      if (!(await end(this.deps.executions.inTransaction(tx)))) return false
      sent = await this.deps.children.ended(tx, execution, failed)
      return true
    })
    if (sent) this.deps.kick()
    return ended
  }

  /**
   * Cancels what runs under an execution that ended (its children, theirs...), and tells whoever runs them.
   * A child created while a pass ran (its parent's spawn committed after the pass read the tree) is found by
   * the next: passes repeat until one cancels nothing. One that still slips through never starts (cancelOrphan).
   */
  private async cancelDescendants(id: string): Promise<void> {
    const repo = this.deps.children.repository()
    for (let pass = 0; pass < MAX_CANCEL_PASSES; pass++) {
      const found = await repo.cancelUnder({ parentId: id })
      this.cancelled(found.started)
      if (found.changed === 0) return
    }
  }

  /** A child found, as it was about to run, to have a parent that ended: it is cancelled, with what it started. */
  async cancelOrphan(execution: Execution): Promise<void> {
    const line = logLine(execution.id, 'info', 'Execution cancelled', { data: { reason: 'its parent execution had ended' } })
    if (!(await this.deps.executions.finish(execution.id, 'cancelled', null, execution.nextNode, [line.row]))) return
    this.stats.cancelled++
    this.publish(line.event)
    this.publishEnd({ id: execution.id, status: 'cancelled', result: null, error: null, nodeId: null }, undefined)
    await this.cancelDescendants(execution.id)
  }

  /** Executions cancelled under a parent (their rows already say so): their nodes stop, subscribers hear it. */
  cancelled(ids: readonly string[]): void {
    for (const child of ids) {
      this.deps.abort(child)
      this.stats.cancelled++
      this.publishEnd({ id: child, status: 'cancelled', result: null, error: null, nodeId: null }, undefined)
    }
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
    if (!(await this.ending(execution, true, (repo) => repo.finish(execution.id, 'failed', error, nodeId, [...logs, failed.row], also)))) return
    if (execution.waiting?.kind === 'children') await this.cancelDescendants(execution.id)
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
    // the node it was at is kept: a re-run "from failed" starts there
    if (!(await this.ending(execution, true, (repo) => repo.finish(id, 'cancelled', null, execution.nextNode, [line.row])))) {
      throw domainError('conflict', 'Execution already finished')
    }
    abort()
    await this.cancelDescendants(id)
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
