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
    // synchronous (no promise per request), and no string work in the usual case: @fastify/cors has already
    // set exactly `Origin`, and nothing later replaced it
    app.addHook('onSend', (_request, reply, payload, done) => {
      const current = reply.getHeader('vary')
      if (current !== 'Origin') reply.header('vary', mergeVary(current))
      done(null, payload)
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
