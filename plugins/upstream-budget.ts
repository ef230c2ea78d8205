import fp from 'fastify-plugin'
import type { UpstreamBudget } from '../src/evercycle/upstream/budget.js'
import type { CircuitBreaker } from '../src/evercycle/upstream/circuit-breaker.js'
import { createBudget } from '../src/evercycle/upstream/create-budget.js'

declare module 'fastify' {
  interface FastifyInstance {
    upstreamBudget: UpstreamBudget
    upstreamBreaker: CircuitBreaker
  }
}

/**
 * The one upstream budget every call to Evercycle passes: rate (opt-in), concurrency with an interactive lane
 * ahead of flows, an upstream 429's pause, and the circuit breaker, whose state changes are logged once each.
 */
export default fp(
  async (app) => {
    const log = app.log.child({ plugin: 'upstream-budget' })
    const { budget, breaker } = createBudget(app.config.evercycle.budget, {
      onBreakerChange: (from, to) => {
        if (to === 'open') log.warn({ from, to }, 'Evercycle circuit breaker opened: calls fail fast until a probe succeeds')
        else log.info({ from, to }, `Evercycle circuit breaker ${to === 'closed' ? 'closed' : 'half-open: one probe call'}`)
      },
      onPause: (untilMs) => log.warn({ until: new Date(untilMs).toISOString() }, 'Evercycle answered 429: every call paused until its Retry-After')
    })
    app.decorate('upstreamBudget', budget)
    app.decorate('upstreamBreaker', breaker)
  },
  { name: 'upstream-budget', dependencies: ['app-config'] }
)
