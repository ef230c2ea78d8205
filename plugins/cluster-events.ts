import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { NotifyBridge } from '../src/cluster/notify-bridge.js'

/**
 * With several replicas on PostgreSQL, execution events and cancels cross replicas through LISTEN/NOTIFY:
 * a WebSocket client on any replica sees an execution that runs on another, and a cancel received anywhere
 * aborts the node on the replica running it. On the embedded database there is one process and nothing to do.
 */
export default fp(
  async (app) => {
    const url = app.config.flowRunner.databaseUrl
    if (app.db.kind !== 'postgres' || url === undefined) return
    const bridge = new NotifyBridge({
      connectionString: url,
      // one channel per queue schema, so clusters (or test runs) sharing a server stay apart
      channel: `flowrunner_${app.config.flowRunner.queueSchema}`,
      origin: randomUUID(),
      log: app.log.child({ plugin: 'cluster-events' }),
      deliver: (event) => {
        if (event.type === 'execution_cancelled') app.engine.abortLocal(event.execution_id)
        app.executionEvents.deliver(event)
      }
    })
    await bridge.start()
    app.executionEvents.relay = (event) => bridge.publish(event)
    app.addHook('onClose', async () => {
      app.executionEvents.relay = undefined
      await bridge.stop()
    })
  },
  { name: 'cluster-events', dependencies: ['app-config', 'db', 'flow-engine'] }
)
