import type { Config } from '../../config.js'
import { UpstreamBudget, type RateSource } from './budget.js'
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js'
import { SlidingWindow } from './sliding-window.js'
import { TokenBucket } from './token-bucket.js'

/** Tokens a flow call must leave for interactive calls: a tenth of the burst (at least one when there is a rate). */
export function flowReserve(burst: number | undefined): number {
  return burst === undefined ? 0 : Math.max(1, Math.floor(burst / 10))
}

/**
 * Calls leave when the budget lets them but reach Evercycle a little later, by varying amounts: the window is
 * this much longer than a second so that no second of arrivals holds more than the rate.
 */
export const WINDOW_MARGIN_MS = 50

/**
 * This process's own rate source (one process, or the CLI in direct mode): a token bucket (the burst, then the
 * rate) and a sliding window that keeps every second-long interval at the rate, idle spells or not.
 */
export function localRate(rate: number, burst: number, clock?: () => number): RateSource {
  const bucket = new TokenBucket({ rate, burst, ...(clock === undefined ? {} : { clock }) })
  const window = new SlidingWindow(Math.max(1, Math.floor(rate)), 1000 + WINDOW_MARGIN_MS, clock)
  return {
    take: (reserve) => {
      const wait = bucket.take(reserve)
      if (wait > 0) return Promise.resolve(wait)
      // flow calls leave the window's reserve free too: a full window would hold interactive calls for up to a second
      const windowWait = window.take(reserve)
      if (windowWait > 0) bucket.refund()
      return Promise.resolve(windowWait)
    },
    refund: () => {
      bucket.refund()
      window.untake()
      return Promise.resolve()
    }
  }
}

export interface BudgetHooks {
  /** A shared rate source (every replica's budget on one row); this process's bucket otherwise. */
  rate?: RateSource | undefined
  onBreakerChange?: (from: BreakerState, to: BreakerState) => void
  onPause?: (untilMs: number) => void
}

/** The upstream budget as the configuration sets it. */
export function createBudget(budget: Config['evercycle']['budget'], hooks: BudgetHooks = {}): { budget: UpstreamBudget; breaker: CircuitBreaker } {
  const breaker = new CircuitBreaker({ ...budget.breaker, ...(hooks.onBreakerChange === undefined ? {} : { onChange: hooks.onBreakerChange }) })
  const rate = budget.rate === undefined || budget.burst === undefined ? undefined : (hooks.rate ?? localRate(budget.rate, budget.burst))
  return {
    breaker,
    budget: new UpstreamBudget({
      maxConcurrency: budget.maxConcurrency,
      queueTimeoutMs: budget.queueTimeoutMs,
      rate,
      flowReserve: flowReserve(budget.burst),
      breaker,
      onPause: hooks.onPause
    })
  }
}
