import type { Config } from '../../config.js'
import { UpstreamBudget, type RateSource } from './budget.js'
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js'
import { TokenBucket } from './token-bucket.js'

/** Tokens a flow call must leave for interactive calls: a tenth of the burst (at least one when there is a rate). */
export function flowReserve(burst: number | undefined): number {
  return burst === undefined ? 0 : Math.max(1, Math.floor(burst / 10))
}

/** This process's own bucket as a rate source (one process, or the CLI in direct mode). */
export function localRate(rate: number, burst: number, clock?: () => number): RateSource {
  const bucket = new TokenBucket({ rate, burst, ...(clock === undefined ? {} : { clock }) })
  return {
    take: (reserve) => Promise.resolve(bucket.take(reserve)),
    refund: () => {
      bucket.refund()
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
