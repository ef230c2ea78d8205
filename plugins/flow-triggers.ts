import fp from 'fastify-plugin'
import { Scheduler } from '../src/flows/triggers/scheduler.js'
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
    app.decorate(
      'triggers',
      new TriggersService({
        db: app.db,
        executions: new ExecutionsRepository(app.db),
        engine: app.engine,
        flow: (actor, flowId) => app.flows.get(actor, flowId),
        secret: (accountId, key) => app.secrets.value(accountId, key),
        hookRate: fr.hookRateLimit,
        kick: () => scheduler.kick(),
        log
      })
    )
    if (fr.worker) app.addHook('onReady', async () => scheduler.start())
    // before any onClose hook (the engine's, the database's): no pass is left half-way when they go
    app.addHook('preClose', async () => scheduler.stop())
  },
  { name: 'flow-triggers', dependencies: ['app-config', 'db', 'flow-engine', 'flow-definitions', 'flow-secrets'] }
)
