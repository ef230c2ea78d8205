import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sessionOf } from '../../plugins/flow-auth.js'
import type { IssuedToken } from '../../src/auth/jwt-sessions.js'
import { errors, MessageSchema, TokenSchema } from './schemas.js'

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 320, description: 'The account email' }),
    password: Type.String({ minLength: 1, maxLength: 1024 })
  },
  { additionalProperties: false }
)

function tokenReply(t: IssuedToken): typeof TokenSchema.static {
  return { token: t.token, expires_at: t.expiresAt.toISOString(), account_id: t.accountId }
}

/**
 * Failed logins are limited per client address and username (FLOWRUNNER_LOGIN_RATE_LIMIT a minute, in the
 * database). That alone lets one address try one password on many usernames, so all attempts from an address
 * are also capped, at this many times the limit.
 */
const ATTEMPTS_PER_FAILURE = 10

/** Login, refresh and logout: bearer JWTs for the rest of /api/v1. */
const auth: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/auth/login',
    {
      config: { rateLimit: { max: app.config.flowRunner.loginRateLimit * ATTEMPTS_PER_FAILURE, timeWindow: 60_000 } },
      schema: {
        tags: ['flowrunner'],
        summary: 'Log in and get a JWT',
        // no token yet: app/flowrunner.ts declares the JWT on every route that does not say otherwise
        security: [],
        body: LoginBody,
        response: { 200: TokenSchema, ...errors(400, 401, 429) }
      }
    },
    async (request) => tokenReply(await app.sessions.login(request.body.username, request.body.password, request.ip))
  )

  app.post(
    '/auth/refresh',
    {
      onRequest: app.requireSession,
      schema: {
        tags: ['flowrunner'],
        summary: 'Exchange a valid token for a new one (the old one is revoked)',
        response: { 200: TokenSchema, ...errors(401) }
      }
    },
    async (request) => tokenReply(await app.sessions.refresh(sessionOf(request)))
  )

  app.post(
    '/auth/logout',
    {
      onRequest: app.requireSession,
      schema: {
        tags: ['flowrunner'],
        summary: 'Revoke the current token',
        response: { 200: MessageSchema, ...errors(401) }
      }
    },
    async (request) => {
      await app.sessions.logout(sessionOf(request))
      return { message: 'Logged out successfully' }
    }
  )
}

export default auth
