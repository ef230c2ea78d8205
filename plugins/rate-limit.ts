import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { domainError } from '../src/errors.js'
import { RateLimitCounters, sharedRateLimitStore } from '../src/store/rate-limit-counters.js'

/** Ended windows are deleted this often (each replica sweeps; the delete is cheap and idempotent). */
const SWEEP_INTERVAL_MS = 60_000

/**
 * Rate limiting, opt-in per route (`config.rateLimit`), keyed by client address (`request.ip`, which honours
 * TRUST_PROXY). Refusals use the error shape of the API they hit, with Retry-After.
 *
 * With DATABASE_URL the counters live in PostgreSQL (`rate_limit_counters`), so a limit holds for the whole
 * cluster rather than per replica; on the embedded database the plugin's in-memory store is used (one process).
 * A database error refuses the request (500) rather than letting it through unlimited.
 */
export default fp(
  async (app) => {
    const shared = app.config.flowRunner.databaseUrl !== undefined
    const counters = shared ? new RateLimitCounters(() => app.db) : undefined
    await app.register(rateLimit, {
      global: false,
      ...(counters === undefined ? {} : { store: sharedRateLimitStore(counters) }),
      addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
      errorResponseBuilder: (_request, context) => {
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000))
        return domainError('rate_limited', `Too many requests: try again in ${seconds} s`, {
          details: { limit: context.max, retry_after_seconds: seconds },
          headers: { 'retry-after': String(seconds) }
        })
      }
    })
    if (counters !== undefined) {
      const sweeper = setInterval(() => {
        counters.sweep().catch((err: unknown) => app.log.warn({ err }, 'rate-limit counter sweep failed'))
      }, SWEEP_INTERVAL_MS)
      sweeper.unref()
      app.addHook('onClose', async () => clearInterval(sweeper))
    }
  },
  { name: 'rate-limit', dependencies: ['app-config', 'db'] }
)
