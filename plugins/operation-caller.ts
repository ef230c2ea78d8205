import fp from 'fastify-plugin'
import { OperationCaller } from '../src/evercycle/operation-caller.js'
import { SharedReads } from '../src/evercycle/upstream/shared-reads.js'
import { registerUpstreamMetrics } from '../src/metrics/upstream-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    operations: OperationCaller
    /** Coalesced and cached GETs (their counters feed the metrics). */
    sharedReads: SharedReads
  }
}

/**
 * Performs registry operations with managed tokens, through the upstream budget, with identical concurrent
 * GETs coalesced and cacheable ones cached; shared by `/api/*` and FlowRunner's evercycle node.
 */
export default fp(
  async (app) => {
    const bus = app.clusterBus
    const reads = new SharedReads({
      ...app.config.evercycle.cache,
      log: app.log.child({ plugin: 'shared-reads' }),
      // a write here makes the other replicas' cached answers stale too
      onInvalidate: (operations) => bus?.publish({ type: 'upstream_invalidated', operations })
    })
    const unsubscribe = bus?.subscribe((message) => {
      if (message.type === 'upstream_invalidated') reads.invalidate(message.operations)
    })
    if (unsubscribe !== undefined) app.addHook('onClose', async () => unsubscribe())
    app.decorate('sharedReads', reads)
    app.decorate('operations', new OperationCaller(app.evercycleClient, app.tokens, app.upstreamBudget, reads))
    registerUpstreamMetrics(app.metrics.registry, { budget: app.upstreamBudget, breaker: app.upstreamBreaker, reads })
  },
  { name: 'operation-caller', dependencies: ['app-config', 'metrics', 'cluster-events', 'evercycle-client', 'token-store', 'upstream-budget'] }
)
