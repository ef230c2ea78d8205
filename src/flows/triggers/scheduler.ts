import type { Driver, Queryable } from '../../store/driver.js'
import { TriggersRepository, type RunnableTrigger } from '../../store/triggers-repository.js'
import type { Execution, TriggeredBy } from '../../store/execution-rows.js'
import type { Logger } from '../../util/logger.js'
import type { NodeSpec } from '../definition-schema.js'
import { dueTicks, Schedule } from './cron.js'
import type { TriggerSpec } from './trigger-schema.js'

/** The log line a schedule's missed ticks are reported by (once per firing that found any). */
export const MISSED_TICKS_MESSAGE = 'flowrunner schedule found ticks missed while no replica ran it'

/** Due schedules fired per transaction. */
const BATCH = 20
/** How long a replica that found the due rows held by another waits before it looks again. */
const CONTENDED_WAIT_MS = 100

/** What the scheduler needs of the engine: executions created inside its transaction. */
export interface ExecutionStarter {
  createIn(
    tx: Queryable,
    flow: { id: string; revision: number; accountId: string },
    start: { id: string; node: NodeSpec | undefined },
    input: unknown,
    triggeredBy: TriggeredBy | undefined,
    id?: string
  ): Promise<Execution>
  created(n: number): void
}

export interface SchedulerDeps {
  db: Driver
  engine: ExecutionStarter
  /** The longest sleep between looks at the table (other replicas' saves, resumed schedules). */
  pollMs: number
  /** A tick found later than this after its time counts as missed (then `catch_up` decides). */
  graceMs: number
  log: Logger
  /** Milliseconds since the epoch (tests inject one). */
  clock?: () => number
}

/**
 * Fires schedules, on every replica with a worker, each tick exactly once across them. A pass reads the
 * earliest next fire time (one indexed query: all an idle pass costs) and sleeps until then or the poll
 * interval. When something is due, one transaction locks the due trigger rows (skipping those another
 * replica holds), creates each tick's execution with its first job, and moves the row's next tick on: the
 * lock and the move commit together, so no tick fires twice, and a replica that dies mid-way rolls back and
 * leaves the ticks to the next pass, here or elsewhere.
 */
export class Scheduler {
  private stopped = true
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private readonly clock: () => number
  /** Ticks this replica fired, and missed ticks `catch_up` left out. */
  readonly stats = { fired: 0, skipped: 0 }

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? Date.now
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.loop
  }

  /** Look now (a schedule was saved or resumed on this replica). */
  kick(): void {
    this.wake?.()
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let waitMs = this.deps.pollMs
      try {
        waitMs = await this.pass()
      } catch (err) {
        this.deps.log.warn({ err }, 'flowrunner scheduler pass failed')
      }
      if (waitMs > 0) await this.sleep(Math.min(waitMs, this.deps.pollMs))
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
  }

  /** Fires what is due now; the milliseconds until the next tick it knows of (0: look again at once). */
  async pass(): Promise<number> {
    const now = new Date(this.clock())
    const due = await new TriggersRepository(this.deps.db).nextDue()
    if (due === undefined) return this.deps.pollMs
    if (due > now) return due.getTime() - now.getTime()
    // nothing claimed: another replica holds the due rows and is firing them; look again shortly
    return (await this.fireDue(now)) === 0 ? CONTENDED_WAIT_MS : 0
  }

  private async fireDue(now: Date): Promise<number> {
    let created = 0
    const claimed = await this.deps.db.transaction(async (tx) => {
      const triggers = new TriggersRepository(tx)
      const due = await triggers.claimDue(now, BATCH)
      for (const trigger of due) created += await this.fire(tx, triggers, trigger, now)
      return due.length
    })
    this.deps.engine.created(created)
    return claimed
  }

  private async fire(tx: Queryable, triggers: TriggersRepository, t: RunnableTrigger, now: Date): Promise<number> {
    const def = t.definition as Extract<TriggerSpec, { type: 'schedule' }>
    const parsed = Schedule.parse(def.cron, def.timezone)
    if (!('schedule' in parsed) || t.nextFireAt === null) {
      await triggers.fired(t.flowId, t.triggerId, null, undefined)
      return 0
    }
    const plan = dueTicks(parsed.schedule, t.nextFireAt, now, def.catch_up, this.deps.graceMs)
    let last: { at: Date; executionId: string } | undefined
    for (const tick of plan.fire) {
      const execution = await this.deps.engine.createIn(
        tx,
        { id: t.flowId, revision: t.revision, accountId: t.accountId },
        { id: t.start, node: t.startNode as NodeSpec | undefined },
        def.input,
        { type: 'schedule', id: t.triggerId, tick: tick.toISOString() }
      )
      last = { at: tick, executionId: execution.id }
    }
    this.stats.fired += plan.fire.length
    this.stats.skipped += plan.skipped
    if (plan.missed > 0) {
      this.deps.log.warn(
        {
          flowId: t.flowId,
          triggerId: t.triggerId,
          missed: plan.missed,
          caughtUp: plan.missed - plan.skipped,
          catchUp: def.catch_up,
          missedBefore: plan.missedBefore.toISOString()
        },
        MISSED_TICKS_MESSAGE
      )
    }
    await triggers.fired(t.flowId, t.triggerId, plan.next ?? null, last)
    return plan.fire.length
  }
}
