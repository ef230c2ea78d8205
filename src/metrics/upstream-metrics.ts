import { Gauge, type Registry } from 'prom-client'
import type { Lane, UpstreamBudget } from '../evercycle/upstream/budget.js'
import type { BreakerState, CircuitBreaker } from '../evercycle/upstream/circuit-breaker.js'
import type { SharedReads } from '../evercycle/upstream/shared-reads.js'
import { mirroredCounter } from './mirrored-counter.js'

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 }
const LANES: readonly Lane[] = ['interactive', 'flow']

/**
 * The upstream budget, breaker, coalescing and cache, as this replica sees them (sum() counters across
 * replicas; the breaker is per replica, so look at each).
 */
export function registerUpstreamMetrics(registry: Registry, sources: { budget: UpstreamBudget; breaker: CircuitBreaker; reads: SharedReads }): void {
  const { budget, breaker, reads } = sources
  const registers = [registry]
  mirroredCounter({
    name: 'evercycle_upstream_budget_wait_seconds_total',
    help: 'Time calls spent waiting for the upstream budget (rate and slots), by lane',
    labelName: 'lane',
    registry,
    read: () => ({ interactive: budget.stats.waitedMs.interactive / 1000, flow: budget.stats.waitedMs.flow / 1000 })
  })
  new Gauge<'lane'>({
    name: 'evercycle_upstream_budget_queue',
    help: 'Calls waiting in line for an upstream slot, by lane (flow calls never wait here: the engine defers them)',
    labelNames: ['lane'],
    registers,
    collect() {
      for (const lane of LANES) this.set({ lane }, budget.queued(lane))
    }
  })
  new Gauge({
    name: 'evercycle_upstream_in_flight',
    help: 'Calls to Evercycle in flight on this replica',
    registers,
    collect() {
      this.set(budget.active)
    }
  })
  mirroredCounter({
    name: 'evercycle_upstream_refused_total',
    help: 'Calls the budget refused or deferred, by reason (busy, rate_limited: during a 429 pause, circuit_open)',
    labelName: 'reason',
    registry,
    read: () => ({ ...budget.stats.refused })
  })
  mirroredCounter({
    name: 'evercycle_upstream_rate_limited_total',
    help: 'Answers 429 received from Evercycle (each pauses every caller for its Retry-After)',
    labelName: 'source',
    registry,
    read: () => ({ evercycle: budget.stats.rateLimitedByUpstream })
  })
  new Gauge({
    name: 'evercycle_upstream_breaker_state',
    help: "This replica's circuit breaker: 0 closed, 1 half-open (one probe out), 2 open",
    registers,
    collect() {
      this.set(BREAKER_VALUE[breaker.state])
    }
  })
  mirroredCounter({
    name: 'evercycle_upstream_coalesced_total',
    help: 'GET calls that shared an identical call already in flight instead of making their own',
    labelName: 'kind',
    registry,
    read: () => ({ get: reads.coalesced })
  })
  mirroredCounter({
    name: 'evercycle_upstream_cache_total',
    help: 'Lookups of cached operations, by result (hit, miss, stale: served while one refresh runs)',
    labelName: 'result',
    registry,
    read: () => {
      const s = reads.cache.stats
      return { hit: s.hits, miss: s.misses, stale: s.stale }
    }
  })
  new Gauge<'measure'>({
    name: 'evercycle_upstream_cache_size',
    help: 'The response cache on this replica: entries and bytes',
    labelNames: ['measure'],
    registers,
    collect() {
      const s = reads.cache.stats
      this.set({ measure: 'entries' }, s.entries)
      this.set({ measure: 'bytes' }, s.bytes)
    }
  })
}
