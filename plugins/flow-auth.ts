import { randomBytes } from 'node:crypto'
import path from 'node:path'
import jwt, { type JWT } from '@fastify/jwt'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Principal } from '../src/accounts/account-service.js'
import { JwtSessions, type Session, type TokenCodec } from '../src/auth/jwt-sessions.js'
import { domainError } from '../src/errors.js'
import { bearerToken } from '../src/http/bearer-token.js'
import { loadOrCreateSecret } from '../src/security/secret-file.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: JwtSessions
    /** onRequest hook for /api/v1 routes: 401 unless the bearer token is valid, unrevoked and its account exists. */
    requireSession: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    flowSession: Session | null
  }
}

export const JWT_SECRET_FILE = 'flowrunner-jwt-secret'
const NAMESPACE = 'flowrunner'
const MIN_SECRET_LENGTH = 32

/** The session `requireSession` put on the request; routes without that hook have none. */
export function sessionOf(request: FastifyRequest): Session {
  if (request.flowSession === null) throw domainError('unauthorized', 'Authentication required', { headers: { 'www-authenticate': 'Bearer' } })
  return request.flowSession
}

export function principalOf(request: FastifyRequest): Principal {
  const { account } = sessionOf(request)
  return { id: account.id, role: account.role }
}

/**
 * FlowRunner's bearer tokens: HS256 JWTs signed with FLOWRUNNER_JWT_SECRET. Outside production a missing
 * secret is generated once into DATA_DIR (0600) with a warning; in production boot fails without it.
 * @fastify/jwt is registered under its own namespace so it can coexist with another registration.
 */
export default fp(
  async (app) => {
    const fr = app.config.flowRunner
    const file = path.join(fr.dataDir, JWT_SECRET_FILE)
    const secret = await loadOrCreateSecret({
      given: fr.jwtSecret,
      variable: 'FLOWRUNNER_JWT_SECRET',
      nodeEnv: app.config.nodeEnv,
      file,
      generate: () => randomBytes(48).toString('base64url'),
      parse: (text, from) => {
        if (from === 'file' && text.length < MIN_SECRET_LENGTH) throw new Error(`${file} holds fewer than ${MIN_SECRET_LENGTH} characters`)
        return text
      },
      messages: {
        generated: 'FLOWRUNNER_JWT_SECRET is not set: generated a signing secret; set the variable for production and for several replicas',
        reused: 'FLOWRUNNER_JWT_SECRET is not set: using the generated secret in DATA_DIR',
        exposed: 'the JWT secret file is readable by other users: chmod 600 it'
      },
      warn: (message) => app.log.warn({ file }, message)
    })

    await app.register(jwt, {
      secret,
      namespace: NAMESPACE,
      sign: { algorithm: 'HS256' },
      verify: { algorithms: ['HS256'] }
    })
    // @fastify/jwt types `app.jwt` as one signer; with a namespace the signer sits under that key
    const signer = (app.jwt as unknown as Record<string, JWT | undefined>)[NAMESPACE]
    if (signer === undefined) throw new Error('@fastify/jwt did not register the flowrunner namespace')
    const codec: TokenCodec = {
      sign: (claims) => signer.sign({ ...claims }),
      verify: (token) => signer.verify(token)
    }

    const sessions = new JwtSessions(app.db, codec, {
      ttlSeconds: fr.jwtTtlSeconds,
      maxFailures: fr.loginRateLimit
    })
    app.decorate('sessions', sessions)
    app.decorateRequest('flowSession', null)
    app.decorate('requireSession', async (request: FastifyRequest) => {
      const token = bearerToken(request.headers.authorization)
      if (token === undefined) {
        throw domainError('unauthorized', 'Authentication required: send Authorization: Bearer <token>', {
          headers: { 'www-authenticate': 'Bearer' }
        })
      }
      request.flowSession = await sessions.authenticate(token)
    })
  },
  { name: 'flow-auth', dependencies: ['app-config', 'db'] }
)
