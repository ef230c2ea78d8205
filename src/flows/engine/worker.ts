import type { Logger } from '../../util/logger.js'

export interface WorkerOptions<J> {
  /** Jobs run at once (slots). */
  concurrency: number
  /** Slots the jobs of one account may hold at once. */
  accountConcurrency: number
  /** How often to look for jobs nobody woke the worker for (other replicas' and deferred ones). */
  pollIntervalMs: number
  /** The account a job runs for. */
  accountOf: (job: J) => string
  /** Claims up to `max` jobs, for no account more than `accountConcurrency` less what it holds (`running`). */
  fetch: (max: number, running: ReadonlyMap<string, number>) => Promise<J[]>
  /** Runs one claimed job; its slot is freed when this settles. */
  handle: (job: J, claimedAt: number) => Promise<void>
  log: Logger
}

/**
 * Runs queue jobs in a fixed number of slots, after pg-boss's worker (src/worker.ts in its repository): a
 * loop that fetches while slots are free and otherwise sleeps until woken (a job was sent from here, a slot
 * was freed) or the poll interval passes; dispatch runs a job in a slot, release frees it, stop ends the loop
 * and waits for the slots to empty. One account's jobs hold at most `accountConcurrency` slots, so an account
 * whose jobs wait on something slow leaves the other slots to the rest.
 */
export class Worker<J> {
  private active = 0
  /** Slots held per account (accounts holding none are absent). */
  private readonly running = new Map<string, number>()
  private stopping = true
  private loopDone: Promise<void> = Promise.resolve()
  private wake: (() => void) | undefined
  /** A kick() that came while the loop was not waiting. */
  private wakePending = false

  constructor(private readonly options: WorkerOptions<J>) {}

  get busy(): number {
    return this.active
  }

  get hasFreeSlot(): boolean {
    return this.active < this.options.concurrency
  }

  /** A slot is free, and the account holds fewer than its share. */
  hasFreeSlotFor(account: string): boolean {
    return this.hasFreeSlot && (this.running.get(account) ?? 0) < this.options.accountConcurrency
  }

  /** Not started, or stopping: takes no new job. */
  get stopped(): boolean {
    return this.stopping
  }

  start(): void {
    this.stopping = false
    this.loopDone = this.loop()
  }

  /** Stops taking jobs; `abortRunning` is called once the loop can take no more, then the slots drain. */
  async stop(abortRunning: () => void): Promise<void> {
    this.stopping = true
    this.kick()
    abortRunning()
    await this.loopDone
    while (this.active > 0) await new Promise((r) => setTimeout(r, 20))
  }

  /** Wakes the loop now; when it is busy fetching, it fetches again before it sleeps. */
  kick(): void {
    const wake = this.wake
    this.wake = undefined
    if (wake === undefined) this.wakePending = true
    else wake()
  }

  /** Takes a slot for a job claimed outside the loop (an execution this process creates and runs itself). */
  claim(account: string): void {
    this.active++
    this.running.set(account, (this.running.get(account) ?? 0) + 1)
  }

  /** Runs a job in a slot the account already took (by the loop or `claim`), and frees the slot after it. */
  dispatch(account: string, run: () => Promise<void>): void {
    void run()
      .catch((err: unknown) => this.options.log.error({ err }, 'flowrunner: step failed unexpectedly'))
      .finally(() => this.release(account))
  }

  release(account: string): void {
    this.active--
    const held = (this.running.get(account) ?? 1) - 1
    if (held > 0) this.running.set(account, held)
    else this.running.delete(account)
    this.kick()
  }

  private async loop(): Promise<void> {
    const { concurrency, pollIntervalMs, log } = this.options
    while (!this.stopping) {
      const free = concurrency - this.active
      if (free > 0) {
        let jobs: J[] = []
        // a wake-up that arrives while this fetch runs is for a job the fetch may not see: fetch again after it
        this.wakePending = false
        const fetchedAt = Date.now()
        try {
          jobs = await this.options.fetch(free, this.running)
        } catch (err) {
          if (this.stopping) break
          log.error({ err }, 'flowrunner: fetching jobs failed')
        }
        for (const job of jobs) {
          const account = this.options.accountOf(job)
          this.claim(account)
          this.dispatch(account, () => this.options.handle(job, fetchedAt))
        }
        if (jobs.length > 0 || this.wakePending) continue
      }
      this.wakePending = false
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }
}
