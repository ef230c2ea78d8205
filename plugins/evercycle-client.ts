import fp from 'fastify-plugin'
import { EvercycleClient } from '../src/evercycle/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    evercycleClient: EvercycleClient
  }
}

/** The one undici pool to Evercycle, timed by the metrics; closed with the server. */
export default fp(
  async (app) => {
    const { baseUrl, timeoutMs, connections } = app.config.evercycle
    const client = new EvercycleClient({ baseUrl, timeoutMs, connections, observer: app.metrics.upstreamObserver })
    app.decorate('evercycleClient', client)
    app.addHook('onClose', async () => client.close())
  },
  { name: 'evercycle-client', dependencies: ['app-config', 'metrics'] }
)
