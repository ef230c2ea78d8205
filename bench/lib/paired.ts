import { median } from './stats.js'

/** One window in which both builds served the same fixed load at the same time. */
export interface PairedRound {
  /** Which start (fresh pair of processes) the round ran on, from 1. */
  start: number
  /** CPU microseconds per request of build A and of build B in that window. */
  a: number
  b: number
}

export interface PairedSummary {
  /** Median over all rounds of B's CPU per request ÷ A's. */
  median: number
  low: number
  high: number
  /** The median ratio of each start, in start order: how much one start's luck moved the result. */
  perStart: number[]
}

/** B ÷ A per round, summarised; rounds whose A measured no CPU are left out rather than dividing by zero. */
export function summarizePaired(rounds: readonly PairedRound[]): PairedSummary {
  const usable = rounds.filter((r) => r.a > 0 && Number.isFinite(r.a) && Number.isFinite(r.b))
  const ratios = usable.map((r) => r.b / r.a)
  const starts = [...new Set(usable.map((r) => r.start))].sort((x, y) => x - y)
  return {
    median: median(ratios),
    low: ratios.length === 0 ? Number.NaN : Math.min(...ratios),
    high: ratios.length === 0 ? Number.NaN : Math.max(...ratios),
    perStart: starts.map((s) => median(usable.filter((r) => r.start === s).map((r) => r.b / r.a)))
  }
}
