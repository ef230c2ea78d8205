import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isDomainError } from '../../src/errors.js'
import { retryAfterSeconds } from '../../src/evercycle/upstream/retry-after.js'

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  message: Type.String(),
  expires_at: Type.Optional(Type.String({ format: 'date-time' }))
})

/**
 * Readiness: 200 when the service identity holds a usable token or can get one now (refresh or sign-in,
 * single-flight and backed off like any other renewal), 503 otherwise (or while shedding load, or while
 * Evercycle's circuit breaker is open) so the proxy routes elsewhere.
 */
const ready: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ready',
    { schema: { tags: ['gateway'], summary: 'Readiness', response: { 200: ReadySchema, 503: ReadySchema } } },
    async (request, reply) => {
      // shedding load: tell the proxy to send traffic to the other replicas until this one recovers
      if (app.loadShedding.reason() !== undefined) {
        reply.header('retry-after', String(app.config.loadShedding.retryAfterSeconds))
        return reply.code(503).send({ status: 'unavailable' as const, message: 'The server is overloaded' })
      }
      // Evercycle failing: its circuit is open (or one probe is testing it), so calls through here fail fast
      const breaker = app.upstreamBreaker
      if (breaker.state !== 'closed' && breaker.retryAfterMs() > 0) {
        reply.header('retry-after', retryAfterSeconds(breaker.retryAfterMs()))
        return reply.code(503).send({ status: 'unavailable' as const, message: 'Evercycle is failing: its circuit breaker is open' })
      }
      try {
        const tokens = (await app.tokens.peek()) ?? (await app.tokens.getTokens())
        return { status: 'ready' as const, message: 'Evercycle tokens are usable', expires_at: new Date(tokens.expiresAt).toISOString() }
      } catch (err) {
        const reason = isDomainError(err) ? err.message : 'Evercycle tokens are unavailable'
        if (!isDomainError(err)) request.log.warn({ err }, 'readiness check failed')
        reply.header('retry-after', '5')
        return reply.code(503).send({ status: 'unavailable' as const, message: reason })
      }
    }
  )
}

export default ready
