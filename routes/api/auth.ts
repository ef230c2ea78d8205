import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SERVICE_IDENTITY } from '../../src/evercycle/token-store.js'
import { GatewayErrorSchema } from '../../app/gateway-schemas.js'

const AuthBodySchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 })
  },
  { additionalProperties: false }
)

const AuthReplySchema = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  expires_at: Type.String({ format: 'date-time', description: 'When the Evercycle tokens expire (they are refreshed)' }),
  expires_in: Type.Integer({ description: 'Seconds until the Evercycle tokens expire' }),
  session_expires_at: Type.Optional(Type.String({ format: 'date-time', description: 'When the gateway session ends' }))
})

const LogoutReplySchema = Type.Object({ status: Type.Literal('success'), message: Type.String() })

/**
 * Sign-in. With GATEWAY_AUTH=session (default) it starts a session for this user only: a signed, HttpOnly
 * cookie naming a server-side session holding their own Evercycle tokens. With GATEWAY_AUTH=none it keeps the
 * old behaviour and replaces the service identity's tokens. Tokens never reach the client either way.
 */
const auth: FastifyPluginAsyncTypebox = async (app) => {
  const { authRateLimit, authRateWindowMs } = app.config.security
  app.post(
    '/auth',
    {
      config: { rateLimit: { max: authRateLimit, timeWindow: authRateWindowMs } },
      schema: {
        tags: ['gateway'],
        summary: 'Sign in to Evercycle',
        body: AuthBodySchema,
        response: { 200: AuthReplySchema, 400: GatewayErrorSchema, 401: GatewayErrorSchema, 429: GatewayErrorSchema }
      }
    },
    async (request, reply) => {
      const expiresIn = (at: number): number => Math.max(0, Math.round((at - Date.now()) / 1000))
      if (app.config.gatewayAuth === 'none') {
        const tokens = await app.tokens.signIn(SERVICE_IDENTITY, request.body, request.id)
        return {
          status: 'success' as const,
          message: 'Authentication successful',
          expires_at: new Date(tokens.expiresAt).toISOString(),
          expires_in: expiresIn(tokens.expiresAt)
        }
      }
      const previous = app.sessionCookie.read(request)
      const session = await app.gatewaySessions.start(request.body, request.id)
      // a new sign-in replaces the browser's previous session rather than leaving it alive server-side
      if (previous !== undefined) await app.gatewaySessions.end(previous)
      app.sessionCookie.set(reply, session.secret, session.record.expiresAt - Date.now())
      request.log.info({ session: 'started' }, 'gateway session started')
      return {
        status: 'success' as const,
        message: 'Authentication successful',
        expires_at: new Date(session.tokens.expiresAt).toISOString(),
        expires_in: expiresIn(session.tokens.expiresAt),
        session_expires_at: new Date(session.record.expiresAt).toISOString()
      }
    }
  )

  app.post(
    '/logout',
    { schema: { tags: ['gateway'], summary: 'End the gateway session', response: { 200: LogoutReplySchema } } },
    async (request, reply) => {
      const secret = app.sessionCookie.read(request)
      if (secret !== undefined) await app.gatewaySessions.end(secret)
      app.sessionCookie.clear(reply)
      return { status: 'success' as const, message: 'Logged out' }
    }
  )
}

export default auth
