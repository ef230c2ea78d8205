import type { ExecutionsRepository } from '../../store/executions-repository.js'
import type { IdempotencyRepository } from '../../store/idempotency-repository.js'
import type { Logger } from '../../util/logger.js'
import type { Transitions } from './transitions.js'

const INTERVAL_MS = 60_000
/** Overdue executions failed per pass. */
const SWEEP_BATCH = 100

/** Retention pruning (executions, idempotency keys past their 24 hours), and the sweeper for executions whose jobs were lost past their deadline. */
export class Housekeeping {
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly deps: {
      executions: ExecutionsRepository
      idempotency: IdempotencyRepository
      transitions: Transitions
      retentionDays: number
      log: Logger
    }
  ) {}

  /** A pass now, then one a minute. */
  start(): void {
    this.timer = setInterval(() => void this.pass(), INTERVAL_MS)
    this.timer.unref()
    void this.pass()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async pass(): Promise<void> {
    if (this.timer === undefined) return
    const { executions, transitions } = this.deps
    try {
      await executions.prune(this.deps.retentionDays)
      await this.deps.idempotency.prune()
      for (const id of await executions.overdue(SWEEP_BATCH)) {
        const execution = await executions.get(id)
        if (execution !== undefined) await transitions.fail(execution, 'Execution timed out', null, undefined, [])
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'flowrunner housekeeping failed')
    }
  }
}
