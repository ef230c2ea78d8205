import { randomUUID } from 'node:crypto'
import type { Driver, Queryable } from '../../store/driver.js'
import { ChildrenRepository, type ChildRow, type Dispatched, type Visit } from '../../store/children-repository.js'
import type { Execution, WaitState } from '../../store/execution-rows.js'
import { NodeFailure, type NodeOutcome, type SpawnRequest } from '../runtime/node-runtime.js'
import type { SpecCache } from './spec-cache.js'
import type { OutgoingJob, StepJobs } from './step-jobs.js'

/** How deep `flow` and `foreach` nodes may nest: an execution started from the API is at depth 0. */
export const MAX_SUBFLOW_DEPTH = 5
/** Sweeps of a visit's live children, at most (each catches children created during the one before). */
export const MAX_CANCEL_PASSES = 10
/** Failed items named in a `foreach` node's result (the rest are listed through the API). */
const MAX_LISTED_ERRORS = 100

export interface ChildrenDeps {
  db: Driver
  jobs: StepJobs
  specs: SpecCache
  /** The latest revision of a flow the account owns (undefined: no such flow, or not the account's). */
  resolveFlow: (flowId: string, accountId: string) => Promise<{ id: string; revision: number } | undefined>
  maxResultBytes: number
  /** Executions that were cancelled under a parent and may be running somewhere: stop them, tell subscribers. */
  cancelled: (ids: readonly string[]) => void
}

/** The children a node is about to start, checked and ready to create. */
export interface PreparedSpawn {
  visit: Visit
  state: Extract<WaitState, { kind: 'children' }>
  create: Parameters<ChildrenRepository['create']>[1]
}

export type Collected = { ok: true; outcome: NodeOutcome } | { ok: false; failure: NodeFailure }

function visitOf(execution: Pick<Execution, 'id' | 'steps'>, node: string): Visit {
  return { parentId: execution.id, node, step: execution.steps }
}

/**
 * Child executions, the engine's side: a `flow` or `foreach` node's children are created with their parent's
 * wait, started `concurrency` at a time, and each one's end (in the transaction that ends it) starts the next
 * and, for the last, hands the parent a job that collects their results. No worker is held while they run.
 */
export class Children {
  constructor(private readonly deps: ChildrenDeps) {}

  repository(q: Queryable = this.deps.db): ChildrenRepository {
    return new ChildrenRepository(q)
  }

  /** Checks a spawn (the flow exists and is the account's, the depth limit) and resolves what the children run. */
  async prepare(execution: Execution, node: string, request: SpawnRequest): Promise<PreparedSpawn> {
    if (execution.depth + 1 > MAX_SUBFLOW_DEPTH) {
      throw new NodeFailure(`Sub-flows nest at most ${MAX_SUBFLOW_DEPTH} deep: flow ${request.flow} would run at depth ${execution.depth + 1}`, false, {
        code: 'subflow_depth_exceeded'
      })
    }
    const flow = await this.deps.resolveFlow(request.flow, execution.accountId)
    if (flow === undefined) throw new NodeFailure(`Flow ${request.flow} not found`, false, { code: 'flow_not_found' })
    const spec = await this.deps.specs.get(flow.id, flow.revision)
    const visit = visitOf(execution, node)
    const reuse = execution.rerunOf !== null && execution.steps === 0 ? execution.rerunOf : undefined
    return {
      visit,
      state: {
        kind: 'children',
        node,
        since: Date.now(),
        mode: request.mode,
        total: request.inputs.length,
        concurrency: request.concurrency,
        onItemError: request.onItemError
      },
      create: {
        flowId: flow.id,
        revision: flow.revision,
        accountId: execution.accountId,
        startNode: spec.start,
        deadlineAt: execution.deadlineAt,
        depth: execution.depth + 1,
        inputs: request.inputs,
        reuseFrom: reuse
      }
    }
  }

  /** Creates the children in transaction `tx` and gives the first `concurrency` jobs; how many will run. */
  async create(tx: Queryable, prepared: PreparedSpawn): Promise<number> {
    const repo = this.repository(tx)
    const pending = await repo.create(prepared.visit, prepared.create)
    if (pending > 0) await this.send(tx, await repo.dispatch(prepared.visit, prepared.state.concurrency))
    return pending
  }

  /**
   * A child ended (`failed`: anything but completed) in transaction `tx`: its parent counts it, the next item
   * starts, and the parent is woken when it is due. True when a job was sent (the worker should look).
   */
  async ended(tx: Queryable, child: Execution, failed: boolean): Promise<boolean> {
    const link = child.parent
    if (link === null) return false
    const visit = { parentId: link.parentId, node: link.parentNode, step: link.parentStep }
    const repo = this.repository(tx)
    // the next item first, then the count that locks the parent's row, last before the commit
    const next = await repo.next(visit)
    if (next !== undefined) await this.deps.jobs.sendMany(tx, [await this.childJob(next, child.flowId, child.revision)])
    const resumeJobId = randomUUID()
    const resume = await repo.count(visit, failed, resumeJobId)
    if (resume !== undefined) {
      const job = this.deps.jobs.jobOf({ executionId: link.parentId, accountId: resume.accountId, step: resume.steps, attempt: resume.attempt }, undefined)
      await this.deps.jobs.sendMany(tx, [{ id: resumeJobId, job }])
    }
    return next !== undefined || resume !== undefined
  }

  /** What a parent's node gets once its children have ended: their result, or its failure. */
  async collect(execution: Execution, wait: Extract<WaitState, { kind: 'children' }>): Promise<Collected> {
    const visit = visitOf(execution, wait.node)
    const repo = this.repository()
    let counts = await repo.counts(visit)
    const stopped = counts.failed + counts.cancelled > 0 && (wait.mode === 'flow' || wait.onItemError === 'fail')
    if (stopped && counts.completed + counts.failed + counts.cancelled < counts.total) {
      // the first failure woke the parent: the items still to finish are cancelled
      // again until a pass finds nothing: a child may have started one of its own while a pass ran
      for (let pass = 0; pass < MAX_CANCEL_PASSES; pass++) {
        const found = await repo.cancelUnder({ visit })
        this.deps.cancelled(found.started)
        if (found.changed === 0) break
      }
      counts = await repo.counts(visit)
    }
    if (wait.mode === 'flow') {
      const [child] = await repo.rows(visit, true)
      if (child === undefined) return { ok: false, failure: new NodeFailure('The sub-flow execution is gone', false) }
      if (child.status === 'completed') return { ok: true, outcome: { result: child.result ?? null, logData: { child_execution_id: child.id } } }
      return { ok: false, failure: this.childFailure(child) }
    }
    const summary = { total: counts.total, completed: counts.completed, failed: counts.failed, cancelled: counts.cancelled }
    // the results fit in a node's result, or the counts stand alone (each item's result is in its child)
    const withResults = (await repo.resultBytes(visit)) + counts.total * 8 + 200 <= this.deps.maxResultBytes
    const rows = await repo.rows(visit, withResults)
    const errors = rows
      .filter((r) => r.status !== 'completed')
      .slice(0, MAX_LISTED_ERRORS)
      .map((r) => ({ index: r.itemIndex, execution_id: r.id, status: r.status, error: r.error ?? (r.status === 'cancelled' ? 'cancelled' : null) }))
    if (stopped) {
      const first = errors[0]
      const what = first === undefined ? '' : ` (item ${first.index}, execution ${first.execution_id}: ${first.error ?? first.status})`
      return { ok: false, failure: new NodeFailure(`${counts.failed + counts.cancelled} of ${counts.total} items did not complete${what}`, true, summary) }
    }
    const result = withResults
      ? { ...summary, results: rows.map((r) => (r.status === 'completed' ? (r.result ?? null) : null)), errors }
      : { ...summary, results_omitted: true, errors }
    return { ok: true, outcome: { result, logData: summary } }
  }

  private childFailure(child: ChildRow): NodeFailure {
    const why = child.status === 'cancelled' ? 'was cancelled' : `failed: ${child.error ?? 'unknown error'}`
    return new NodeFailure(`Sub-flow execution ${child.id} ${why}`, true, { child_execution_id: child.id })
  }

  async send(tx: Queryable, dispatched: readonly Dispatched[]): Promise<void> {
    const first = dispatched[0]
    if (first === undefined) return
    const { rows } = await tx.query<{ flow_id: string; revision: number }>('SELECT flow_id, revision FROM executions WHERE id = $1', [first.id])
    const flow = rows[0]
    if (flow === undefined) return
    const jobs = await Promise.all(dispatched.map((d) => this.childJob(d, flow.flow_id, flow.revision)))
    await this.deps.jobs.sendMany(tx, jobs)
  }

  private async childJob(d: Dispatched, flowId: string, revision: number): Promise<{ id: string; job: OutgoingJob }> {
    const spec = await this.deps.specs.get(flowId, revision)
    return { id: d.jobId, job: this.deps.jobs.jobOf({ executionId: d.id, accountId: d.accountId, step: 0, attempt: 1 }, spec.nodes[spec.start]) }
  }
}
