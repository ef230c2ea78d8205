import fp from 'fastify-plugin'
import type { UpstreamBudget } from '../src/evercycle/upstream/budget.js'
import type { CircuitBreaker } from '../src/evercycle/upstream/circuit-breaker.js'
import { createBudget, WINDOW_MARGIN_MS } from '../src/evercycle/upstream/create-budget.js'
import { SharedRate } from '../src/evercycle/upstream/shared-rate.js'
import { UpstreamBudgetRepository } from '../src/store/upstream-budget-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    upstreamBudget: UpstreamBudget
    upstreamBreaker: CircuitBreaker
  }
}

/**
 * The one upstream budget every call to Evercycle passes: rate (opt-in), concurrency with an interactive lane
 * ahead of flows, an upstream 429's pause, and the circuit breaker, whose state changes are logged once each.
 * On PostgreSQL the replicas share it: the rate is one bucket and window in the database (when a rate is set;
 * without one nothing here touches the database), and a 429 one replica sees pauses them all, told at once through the
 * cluster bus and written to the bucket's row for a replica that missed the message.
 */
export default fp(
  async (app) => {
    const log = app.log.child({ plugin: 'upstream-budget' })
    const settings = app.config.evercycle.budget
    const key = app.config.evercycle.baseUrl
    const bus = app.clusterBus
    // as the local rate: the bucket, and at most the rate in any second-long window (its margin included)
    const shape =
      settings.rate === undefined || settings.burst === undefined
        ? undefined
        : { rate: settings.rate, burst: settings.burst, windowLimit: Math.max(1, Math.floor(settings.rate)), windowMs: 1000 + WINDOW_MARGIN_MS }
    const repository = app.db.kind === 'postgres' && shape !== undefined ? new UpstreamBudgetRepository(app.db) : undefined
    // the budget is built with the rate source, and the source tells the budget of a pause it reads in the row
    let paused: (untilMs: number) => void = () => undefined
    const rate =
      repository === undefined || shape === undefined
        ? undefined
        : new SharedRate({ repository, key, ...shape, log, onPaused: (untilMs) => paused(untilMs) })
    const { budget, breaker } = createBudget(settings, {
      rate,
      onBreakerChange: (from, to) => {
        if (to === 'open') log.warn({ from, to }, 'Evercycle circuit breaker opened: calls fail fast until a probe succeeds')
        else log.info({ from, to }, `Evercycle circuit breaker ${to === 'closed' ? 'closed' : 'half-open: one probe call'}`)
      },
      onPause: (untilMs) => {
        log.warn({ until: new Date(untilMs).toISOString() }, 'Evercycle answered 429: every call paused until its Retry-After')
        bus?.publish({ type: 'upstream_paused', until_ms: untilMs })
        if (repository !== undefined && shape !== undefined) {
          repository.pause(key, shape, untilMs - Date.now()).catch((err: unknown) => log.warn({ err }, 'upstream budget: the pause could not be written for the other replicas'))
        }
      }
    })
    paused = (untilMs) => budget.pause(untilMs)
    // another replica's 429: this one pauses too (pause() only extends, and tells no one: no echo)
    const unsubscribe = bus?.subscribe((message) => {
      if (message.type === 'upstream_paused') budget.pause(message.until_ms)
    })
    if (unsubscribe !== undefined) app.addHook('onClose', async () => unsubscribe())
    app.decorate('upstreamBudget', budget)
    app.decorate('upstreamBreaker', breaker)
  },
  { name: 'upstream-budget', dependencies: ['app-config', 'db', 'cluster-events'] }
)
