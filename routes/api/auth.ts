import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SERVICE_IDENTITY } from '../../src/evercycle/token-store.js'
import { GatewayErrorSchema } from '../../src/http/gateway-schemas.js'

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
  expires_at: Type.String({ format: 'date-time' }),
  expires_in: Type.Integer({ description: 'Seconds until the Evercycle tokens expire' })
})

/** Signs in to Evercycle and keeps the tokens server-side; the caller never sees them. */
const auth: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/auth',
    {
      schema: {
        tags: ['gateway'],
        summary: 'Sign in to Evercycle',
        body: AuthBodySchema,
        response: { 200: AuthReplySchema, 400: GatewayErrorSchema, 401: GatewayErrorSchema }
      }
    },
    async (request) => {
      const tokens = await app.tokens.signIn(SERVICE_IDENTITY, request.body, request.id)
      return {
        status: 'success' as const,
        message: 'Authentication successful',
        expires_at: new Date(tokens.expiresAt).toISOString(),
        expires_in: Math.max(0, Math.round((tokens.expiresAt - Date.now()) / 1000))
      }
    }
  )
}

export default auth
