import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { NotifyBus, type ClusterBus } from '../src/cluster/cluster-bus.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Undefined on the embedded database: one process, no other replica to tell. */
    clusterBus: ClusterBus | undefined
  }
}

/**
 * With several replicas on PostgreSQL, execution events and cancels cross replicas through LISTEN/NOTIFY:
 * a WebSocket client on any replica sees an execution that runs on another, and a cancel received anywhere
 * aborts the node on the replica running it; an upstream 429 seen by one replica pauses every replica's upstream
 * budget. The engine (flow-engine) and the budget (upstream-budget) publish to the bus and subscribe to it when
 * they are built.
 */
export default fp(
  async (app) => {
    const url = app.config.flowRunner.databaseUrl
    if (app.db.kind !== 'postgres' || url === undefined) {
      app.decorate('clusterBus', undefined)
      return
    }
    const bus = new NotifyBus({
      connectionString: url,
      // one channel per queue schema, so clusters (or test runs) sharing a server stay apart
      channel: `flowrunner_${app.config.flowRunner.queueSchema}`,
      origin: randomUUID(),
      log: app.log.child({ plugin: 'cluster-events' })
    })
    await bus.start()
    app.decorate('clusterBus', bus)
    app.addHook('onClose', async () => bus.stop())
  },
  { name: 'cluster-events', dependencies: ['app-config', 'db'] }
)
