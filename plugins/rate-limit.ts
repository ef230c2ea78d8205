import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { domainError } from '../src/errors.js'

/**
 * Rate limiting, opt-in per route (`config.rateLimit`), keyed by client address (`request.ip`, which honours
 * TRUST_PROXY). Refusals use the error shape of the API they hit, with Retry-After.
 */
export default fp(
  async (app) => {
    await app.register(rateLimit, {
      global: false,
      addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
      errorResponseBuilder: (_request, context) => {
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000))
        return domainError('rate_limited', `Too many requests: try again in ${seconds} s`, {
          details: { limit: context.max, retry_after_seconds: seconds },
          headers: { 'retry-after': String(seconds) }
        })
      }
    })
  },
  { name: 'rate-limit' }
)
