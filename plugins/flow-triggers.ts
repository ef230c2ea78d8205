import fp from 'fastify-plugin'
import { Scheduler } from '../src/flows/triggers/scheduler.js'
import { mirroredCounter } from '../src/metrics/mirrored-counter.js'
import { TriggersService } from '../src/flows/triggers/triggers-service.js'
import { ExecutionsRepository } from '../src/store/executions-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    triggers: TriggersService
  }
}

/** How much later than its time a tick may be found and still count as on time, beyond the poll interval. */
const GRACE_MARGIN_MS = 1000

/**
 * Flow triggers: the service behind the triggers API, inbound webhooks and idempotent runs, and, on a replica
 * with a worker, the scheduler that fires schedules (each tick once across the replicas: scheduler.ts).
 */
export default fp(
  async (app) => {
    const fr = app.config.flowRunner
    const log = app.log.child({ plugin: 'flow-triggers' })
    const scheduler = new Scheduler({
      db: app.db,
      engine: app.engine,
      pollMs: fr.pollIntervalMs,
      graceMs: fr.pollIntervalMs + GRACE_MARGIN_MS,
      log
    })
    const service = new TriggersService({
        db: app.db,
        executions: new ExecutionsRepository(app.db),
        engine: app.engine,
        flow: (actor, flowId) => app.flows.get(actor, flowId),
        openSecret: (accountId, key, sealed) => app.secrets.openOne(accountId, key, sealed),
        hookRate: fr.hookRateLimit,
        kick: () => scheduler.kick(),
        log
      })
    app.decorate('triggers', service)
    mirroredCounter({
      name: 'flowrunner_schedule_ticks_total',
      help: "Schedule ticks this replica fired, and missed ticks their catch_up left out, by outcome (fired, skipped)",
      labelName: 'outcome',
      registry: app.metrics.registry,
      read: () => ({ ...scheduler.stats })
    })
    mirroredCounter({
      name: 'flowrunner_webhook_requests_total',
      help: 'Inbound webhook requests this replica answered, by outcome (started, replayed, not_found, rate_limited, bad_signature)',
      labelName: 'outcome',
      registry: app.metrics.registry,
      read: () => ({ ...service.hookStats })
    })
    if (fr.worker) app.addHook('onReady', async () => scheduler.start())
    // before any onClose hook (the engine's, the database's): no pass is left half-way when they go
    app.addHook('preClose', async () => scheduler.stop())
  },
  { name: 'flow-triggers', dependencies: ['app-config', 'db', 'metrics', 'flow-engine', 'flow-definitions', 'flow-secrets'] }
)
