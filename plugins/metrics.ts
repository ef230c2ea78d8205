import type { onResponseHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { GatewayMetrics } from '../src/metrics/gateway-metrics.js'
import { MetricsToken } from '../src/metrics/metrics-auth.js'
import { MetricsListener } from '../src/metrics/metrics-listener.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
    /** The separate `METRICS_PORT` listener, when configured. */
    metricsListener: MetricsListener | null
  }
}

/**
 * Prometheus metrics: the registry (one per app), request timing by route pattern for every route registered
 * after this, and the optional `METRICS_PORT` listener, which starts with the app and closes with it. The plugins
 * that build what other metrics count (the Evercycle client, the token manager, the engine) register them; the
 * main port's route is routes/metrics.ts.
 */
export default fp(
  async (app) => {
    const metrics = new GatewayMetrics()
    app.decorate('metrics', metrics)
    // Each route gets its own onResponse hook holding its pattern and its cached series: asking
    // `request.routeOptions.url` builds a new options object on every request. Requests no route matched (the
    // not-found handler) are recorded by the global hook.
    const timers = new WeakSet<onResponseHookHandler>()
    app.addHook('onRoute', (route) => {
      const own = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]
      // a GET's HEAD twin is built from the GET's options, hook included
      if (own.some((hook) => timers.has(hook))) return
      const record = metrics.requestRecorder(route.url)
      const timer: onResponseHookHandler = (request, reply, done) => {
        record(request.method, reply.statusCode, reply.elapsedTime)
        done()
      }
      timers.add(timer)
      route.onResponse = [...own, timer]
    })
    const recordUnmatched = metrics.requestRecorder(undefined)
    app.addHook('onResponse', (request, reply, done) => {
      if (request.is404) recordUnmatched(request.method, reply.statusCode, reply.elapsedTime)
      done()
    })

    const { port, host, token } = app.config.metrics
    const listener =
      port === undefined
        ? null
        : new MetricsListener({ metrics, token: token === undefined ? undefined : new MetricsToken(token), log: app.log })
    app.decorate('metricsListener', listener)
    if (listener !== null && port !== undefined) {
      app.addHook('onReady', async () => {
        await listener.listen(port, host)
        app.log.info({ host, port: listener.port }, 'metrics listening')
      })
      app.addHook('onClose', async () => listener.close())
    }
  },
  { name: 'metrics', dependencies: ['app-config'] }
)
