import { Counter, type Registry } from 'prom-client'

/**
 * The token manager's single-flight at work: callers that found a renewal already running and waited for it
 * instead of sending their own. A burst at token expiry shows here, not as extra refreshes.
 */
export function registerTokenMetrics(registry: Registry, events: () => { readonly waiters: number }): void {
  let seen = 0
  new Counter({
    name: 'evercycle_token_singleflight_waiters_total',
    help: 'Callers that joined a token renewal already in flight on this replica instead of starting one',
    registers: [registry],
    collect() {
      const total = events().waiters
      if (total > seen) this.inc(total - seen)
      seen = Math.max(seen, total)
    }
  })
}
