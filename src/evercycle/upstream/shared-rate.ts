import type { RateShape, SharedTake, UpstreamBudgetRepository } from '../../store/upstream-budget-repository.js'
import type { Logger } from '../../util/logger.js'
import type { RateSource } from './budget.js'

/** How long a caller is told to wait when the database cannot be asked (it asks again after that). */
export const DATABASE_DOWN_WAIT_MS = 1000

/**
 * The local pause is set this much short of the row's end: a caller who sleeps the wait it was given must not
 * wake (timers can fire a few ms early by Date.now()) to a local pause still on; until the row's end, the row
 * holds it back.
 */
const PAUSE_MARGIN_MS = 25

export interface SharedRateOptions extends RateShape {
  repository: UpstreamBudgetRepository
  /** The bucket's key: the Evercycle base URL, so every replica calling it draws on one rate. */
  key: string
  log: Logger
  /**
   * Told when the row says an upstream 429's pause is on (this replica may have missed the cluster's
   * notification): ms since the epoch by this process's clock.
   */
  onPaused?: ((untilMs: number) => void) | undefined
  /** Monotonic milliseconds, for the local estimate below. */
  now?: () => number
}

interface Known {
  /** When the statement that read the row was sent (this.now()): no later than the row's reading. */
  at: number
  tokens: number
  /** No take before then (this.now()): the pause's end, or the window's room. */
  blockedUntil: number
  /** No take that leaves a reserve (a flow's) before then: the window's room for it. */
  reserveBlockedUntil: number
}

/**
 * The rate every replica shares: a token bucket and a sliding window in one database row
 * (UpstreamBudgetRepository), one statement per take. Only used when a rate is configured (the rate is opt-in):
 * then each upstream call costs one round trip.
 *
 * What the row said last is kept, refilled locally, as an upper bound: other replicas only ever take from the
 * bucket (a refund is one token, rare), so while even that bound is short of a token the answer is known
 * without asking. And while it is short of a token for every take in flight, a take waits for those to land
 * before it asks. So callers waiting for the rate do not all poll the row each time a token is due: about one
 * query per replica per token, however many callers wait. Every token is still taken by the database.
 */
export class SharedRate implements RateSource {
  private known: Known | undefined
  private inFlight = 0
  private settled: Array<() => void> = []
  /**
   * The window stamp of the take that resolved in the current macrotask. The budget refunds a flow call that
   * finds no slot right after its take, before anything else runs, so a refund that finds it here is that
   * call's, and its slot in the window is freed. A later refund (an interactive call that waited for a slot)
   * leaves its stamp in the window to age out: never more calls than the rate, at worst one fewer for a second.
   */
  private fresh: number | undefined
  private downSince = 0
  private readonly now: () => number

  constructor(private readonly options: SharedRateOptions) {
    this.now = options.now ?? (() => performance.now())
  }

  async take(reserve: number): Promise<number> {
    const need = Math.min(1 + Math.max(0, reserve), this.options.burst)
    for (;;) {
      const known = this.estimate()
      if (known !== undefined) {
        const blockedUntil = reserve > 0 ? Math.max(known.blockedUntil, known.reserveBlockedUntil) : known.blockedUntil
        const wait = Math.max(blockedUntil - this.now(), known.tokens >= need ? 0 : ((need - known.tokens) * 1000) / this.options.rate)
        if (wait > 0) return Math.max(1, Math.ceil(wait))
        if (known.tokens - this.inFlight < need) {
          await new Promise<void>((resolve) => this.settled.push(resolve))
          continue
        }
      }
      return this.ask(reserve)
    }
  }

  async refund(): Promise<void> {
    const stamp = this.fresh
    this.fresh = undefined
    if (this.known !== undefined) this.known.tokens += 1
    await this.options.repository.refund(this.options.key, this.options, stamp).catch((err: unknown) => this.options.log.warn({ err }, 'upstream budget: refund failed'))
  }

  private async ask(reserve: number): Promise<number> {
    this.inFlight++
    const sent = this.now()
    let result: SharedTake
    try {
      result = await this.options.repository.take(this.options.key, this.options, reserve)
    } catch (err) {
      // no way to know what the other replicas take: this one holds its calls rather than overrun the rate
      if (this.downSince === 0) this.options.log.error({ err }, 'upstream budget: the shared rate cannot be read; Evercycle calls wait until it can')
      this.downSince ||= Date.now()
      return DATABASE_DOWN_WAIT_MS
    } finally {
      this.inFlight--
      const waiting = this.settled
      this.settled = []
      for (const resolve of waiting) resolve()
    }
    if (this.downSince !== 0) {
      this.options.log.info({ downMs: Date.now() - this.downSince }, 'upstream budget: the shared rate is readable again')
      this.downSince = 0
    }
    // refilled from when the statement was sent, the estimate stays an upper bound however long the round trip
    // was; an answer to an older statement, landing after a newer one's, would only be staler
    if (this.known === undefined || sent >= this.known.at) {
      // a window wait a reserving caller (a flow) was told holds back reserving callers only: the window may
      // still have room for the calls that take its last slots
      const until = sent + Math.max(result.pausedMs, result.windowMs)
      this.known = { at: sent, tokens: result.tokens, blockedUntil: reserve > 0 ? sent + result.pausedMs : until, reserveBlockedUntil: until }
    }
    if (result.pausedMs > PAUSE_MARGIN_MS) this.options.onPaused?.(Date.now() + result.pausedMs - PAUSE_MARGIN_MS)
    const stamp = result.stamp
    if (stamp !== undefined) {
      this.fresh = stamp
      setImmediate(() => {
        if (this.fresh === stamp) this.fresh = undefined
      })
    }
    return result.waitMs
  }

  /** The row as last read, with the refill since (an upper bound: other replicas may have taken some). */
  private estimate(): Known | undefined {
    const known = this.known
    if (known === undefined) return undefined
    const now = this.now()
    const tokens = Math.min(this.options.burst, known.tokens + ((now - known.at) * this.options.rate) / 1000)
    return { at: now, tokens: tokens + 1e-9, blockedUntil: known.blockedUntil, reserveBlockedUntil: known.reserveBlockedUntil }
  }
}
