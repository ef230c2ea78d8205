import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { domainError } from '../src/errors.js'
import { METRICS_CHALLENGE, MetricsToken } from '../src/metrics/metrics-auth.js'

/**
 * `GET /metrics` on the main port, only behind `METRICS_TOKEN` and only when no `METRICS_PORT` serves them.
 * Otherwise there is no such route (404): the main port faces the internet through Caddy, and metrics name
 * every operation, traffic volumes, token failures and queue depth, which is reconnaissance for an attacker.
 */
const metrics: FastifyPluginAsyncTypebox = async (app) => {
  const { token, port } = app.config.metrics
  if (token === undefined || port !== undefined) return
  const expected = new MetricsToken(token)
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!expected.accepts(request.headers.authorization)) {
      throw domainError('unauthorized', 'A valid metrics token is required', { headers: { 'www-authenticate': METRICS_CHALLENGE } })
    }
    reply.type(app.metrics.contentType)
    return app.metrics.render()
  })
}

export default metrics
