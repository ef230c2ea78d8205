import fp from 'fastify-plugin'
import { EvercycleClient } from '../src/evercycle/client.js'
import { observeActivity, UpstreamActivity } from '../src/evercycle/upstream/upstream-activity.js'

declare module 'fastify' {
  interface FastifyInstance {
    evercycleClient: EvercycleClient
    /** Evercycle's health as this replica saw it: the last good answer and the recent failed calls. */
    upstreamActivity: UpstreamActivity
  }
}

/** The one undici pool to Evercycle, timed by the metrics and watched for the status page; closed with the server. */
export default fp(
  async (app) => {
    const { baseUrl, timeoutMs, connections } = app.config.evercycle
    const activity = new UpstreamActivity()
    const observer = observeActivity(app.metrics.upstreamObserver, activity)
    const client = new EvercycleClient({ baseUrl, timeoutMs, connections, observer })
    app.decorate('evercycleClient', client)
    app.decorate('upstreamActivity', activity)
    app.addHook('onClose', async () => client.close())
  },
  { name: 'evercycle-client', dependencies: ['app-config', 'metrics'] }
)
