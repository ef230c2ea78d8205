import cors from '@fastify/cors'
import fp from 'fastify-plugin'
import { OriginPolicy } from '../src/http/origin-policy.js'

declare module 'fastify' {
  interface FastifyInstance {
    originPolicy: OriginPolicy
  }
}

/**
 * CORS for the browser UIs: credentials allowed, and the grant (`Access-Control-Allow-Origin: <origin>`) given
 * only to origins on the allow-list, on preflights and actual responses alike. `Vary: Origin` always.
 */
export default fp(
  async (app) => {
    const policy = new OriginPolicy(app.config.corsOrigins)
    app.decorate('originPolicy', policy)
    await app.register(cors, {
      origin: (origin, cb) => cb(null, policy.allows(origin)),
      credentials: true,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600,
      strictPreflight: false
    })
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('vary', mergeVary(reply.getHeader('vary')))
      return payload
    })
  },
  { name: 'cors-policy', dependencies: ['app-config'] }
)

function mergeVary(current: unknown): string {
  const values = new Set(
    String(current ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '')
  )
  values.add('Origin')
  return [...values].join(', ')
}
