import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { domainError } from '../src/errors.js'

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
    await app.register(underPressure, {
      maxEventLoopDelay: limits.maxEventLoopDelayMs,
      maxEventLoopUtilization: limits.maxEventLoopUtilization,
      maxHeapUsedBytes: limits.maxHeapUsedBytes,
      maxRssBytes: limits.maxRssBytes,
      sampleInterval: limits.sampleIntervalMs,
      retryAfter,
      pressureHandler: (request, _reply, type) => {
        // returning nothing lets the request through
        if (EXEMPT.has(request.routeOptions.url ?? '')) return
        shed.inc({ reason: type })
        // a rejection reaches the error handler of the product the URL belongs to, which answers in its shape
        return Promise.reject(
          domainError('overloaded', 'The server is overloaded: try again shortly', {
            details: { retry_after_seconds: retryAfter },
            headers: { 'retry-after': String(retryAfter) }
          })
        )
      }
    })
    new Gauge({
      name: 'gateway_under_pressure',
      help: '1 while this replica sheds load (past a configured limit), else 0',
      registers,
      collect() {
        this.set(app.isUnderPressure() ? 1 : 0)
      }
    })
  },
  { name: 'load-shedding', dependencies: ['app-config', 'metrics'] }
)
