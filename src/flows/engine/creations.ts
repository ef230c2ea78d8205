import type { Driver, Queryable } from '../../store/driver.js'
import type { Execution, NewExecution } from '../../store/execution-rows.js'
import type { ExecutionForRun, ExecutionsRepository } from '../../store/executions-repository.js'
import type { OutgoingJob, StepJobs } from './step-jobs.js'
import type { EngineStats } from './transitions.js'

/** Executions coming into being: each row with its first job, written together, and counted as started. */
export class Creations {
  constructor(private readonly deps: { db: Driver; executions: ExecutionsRepository; jobs: StepJobs; stats: EngineStats }) {}

  /** A new execution and its first job, for any worker to fetch. */
  async create(row: NewExecution, first: OutgoingJob): Promise<Execution> {
    const { db, executions, jobs } = this.deps
    const execution = await db.transaction(async (tx) => {
      const created = await executions.inTransaction(tx).create(row)
      await jobs.send(tx, row.jobId, first)
      return created
    })
    this.deps.stats.started++
    return execution
  }

  /** A new execution and its first job inside the caller's transaction; `counted` after it commits. */
  async createIn(tx: Queryable, row: NewExecution, first: OutgoingJob): Promise<Execution> {
    const created = await this.deps.executions.inTransaction(tx).create(row)
    await this.deps.jobs.send(tx, row.jobId, first)
    return created
  }

  /** Executions created with `createIn` whose transaction committed. */
  counted(n: number): void {
    this.deps.stats.started += n
  }

  /**
   * A new execution whose first job this worker claims as it is created, in one statement that also returns
   * what the worker reads before it starts a job (the execution and its account's sealed secrets).
   */
  async createClaimed(row: NewExecution, first: OutgoingJob): Promise<ExecutionForRun> {
    const loaded = await this.deps.executions.createForRun(row, this.deps.jobs.claimedInsert(row.jobId, first))
    this.deps.stats.started++
    return loaded
  }
}
