import { performance } from 'node:perf_hooks'
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { domainError } from '../src/errors.js'
import { SheddingEpisodes } from '../src/http/shedding-episodes.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** What this replica sheds load for now (the limit exceeded), or undefined; boot's own stall never counts. */
    loadShedding: { reason(): string | undefined }
  }
}

/**
 * Routes that keep answering under pressure: liveness (restarting a replica for being busy makes an overload
 * worse), readiness (it turns 503 itself, in its own shape, so the proxy stops sending traffic), and metrics
 * (an overload is when they are needed). All three are cheap.
 */
const EXEMPT = new Set(['/health', '/api/health', '/api/ready', '/metrics'])

/**
 * Load shedding with @fastify/under-pressure: past the configured event-loop delay, event-loop utilization,
 * heap or RSS limits, requests get 503 `overloaded` with Retry-After in their API's error shape, before any
 * work (auth, validation, upstream) is done for them. Limits set to 0 are off.
 */
export default fp(
  async (app) => {
    const limits = app.config.loadShedding
    const registers = [app.metrics.registry]
    const shed = new Counter<'reason'>({
      name: 'gateway_load_shed_total',
      help: 'Requests refused with 503 overloaded, by the limit that was exceeded',
      labelNames: ['reason'],
      registers
    })
    const retryAfter = limits.retryAfterSeconds

    // The sampler starts with the plugin, so its first samples hold the boot's own stalls (compiling schemas,
    // opening the database), which said nothing about load and answered the first requests 503. Event-loop
    // readings count once every sample they may come from was taken after the server was ready (inject) or
    // listening: a reading is at most one interval old and covers the interval before it, hence two.
    let bootEnded: number | undefined
    const markBootEnded = async (): Promise<void> => {
      bootEnded = performance.now()
    }
    app.addHook('onReady', markBootEnded)
    app.addHook('onListen', markBootEnded)
    const eventLoopCounts = (): boolean => bootEnded !== undefined && performance.now() - bootEnded >= 2 * limits.sampleIntervalMs

    const episodes = new SheddingEpisodes(app.log)
    let watch: NodeJS.Timeout | undefined
    const endEpisode = (): void => {
      clearInterval(watch)
      watch = undefined
      episodes.end()
    }
    app.addHook('onClose', async () => endEpisode())

    await app.register(underPressure, {
      maxEventLoopDelay: limits.maxEventLoopDelayMs,
      maxEventLoopUtilization: limits.maxEventLoopUtilization,
      // the last interval's utilization, as the delay is; the default is the average since the plugin started
      eventLoopUtilizationMode: 'interval',
      maxHeapUsedBytes: limits.maxHeapUsedBytes,
      maxRssBytes: limits.maxRssBytes,
      sampleInterval: limits.sampleIntervalMs,
      retryAfter,
      pressureHandler: (request) => {
        // returning nothing lets the request through
        if (EXEMPT.has(request.routeOptions.url ?? '')) return
        // under-pressure names the first limit it found exceeded, which may be an event-loop reading from boot
        const why = reason()
        if (why === undefined) return
        shed.inc({ reason: why })
        episodes.refuse(why)
        // the episode ends at the first sample that finds no limit exceeded
        watch ??= setInterval(() => {
          if (reason() === undefined) endEpisode()
        }, limits.sampleIntervalMs).unref()
        // a rejection reaches the error handler of the product the URL belongs to, which answers in its shape
        return Promise.reject(
          domainError('overloaded', 'The server is overloaded: try again shortly', {
            details: { retry_after_seconds: retryAfter },
            headers: { 'retry-after': String(retryAfter) }
          })
        )
      }
    })

    /** under-pressure's own isUnderPressure(), less the event-loop readings boot left behind. */
    function reason(): string | undefined {
      const now = app.memoryUsage()
      if (limits.maxHeapUsedBytes > 0 && now.heapUsed > limits.maxHeapUsedBytes) return 'heapUsedBytes'
      if (limits.maxRssBytes > 0 && now.rssBytes > limits.maxRssBytes) return 'rssBytes'
      if (!eventLoopCounts()) return undefined
      if (limits.maxEventLoopDelayMs > 0 && now.eventLoopDelay > limits.maxEventLoopDelayMs) return 'eventLoopDelay'
      if (limits.maxEventLoopUtilization > 0 && now.eventLoopUtilized > limits.maxEventLoopUtilization) return 'eventLoopUtilization'
      return undefined
    }
    app.decorate('loadShedding', { reason })

    new Gauge({
      name: 'gateway_under_pressure',
      help: '1 while this replica sheds load (past a configured limit), else 0',
      registers,
      collect() {
        this.set(reason() === undefined ? 0 : 1)
      }
    })
  },
  { name: 'load-shedding', dependencies: ['app-config', 'metrics'] }
)
