import { randomBytes } from 'node:crypto'
import path from 'node:path'
import cookie from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { domainError } from '../src/errors.js'
import { identityKind, SERVICE_IDENTITY, sessionIdentity } from '../src/evercycle/token-store.js'
import { ApiKeySet, presentedApiKey } from '../src/security/api-keys.js'
import { SESSION_COOKIE } from '../src/security/gateway-sessions.js'
import { loadOrCreateSecret } from '../src/security/secret-file.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

declare module 'fastify' {
  interface FastifyInstance {
    sessionCookie: {
      set(reply: FastifyReply, secret: string, maxAgeMs: number): void
      clear(reply: FastifyReply): void
      /** The session secret carried by a valid signed cookie. */
      read(request: FastifyRequest): string | undefined
    }
  }
  interface FastifyRequest {
    /** Whose Evercycle tokens this request uses: `service` or `session:<key>`. */
    identity: string
  }
  interface FastifyContextConfig {
    /** The route needs a client identity (an API key or a session) unless GATEWAY_AUTH=none. */
    auth?: boolean
  }
}

/** The origin a same-origin browser request would carry, from Host and (behind a trusted proxy) its scheme. */
function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (referer === undefined) return undefined
  try {
    return new URL(referer).origin
  } catch {
    return 'null'
  }
}

/**
 * Client authentication. Operation routes need an API key (acts as the service identity) or a session cookie
 * (the user's own Evercycle tokens). Cookie-bound writes from an origin off the allow-list are refused before
 * anything reaches Evercycle: with cookie sessions a permissive CORS preflight would be a CSRF hole. Registered
 * in the gateway's `/api/` context (app/gateway.ts), so every hook here holds for that context only.
 */
export default fp(
  async (app) => {
    const { config } = app
    const security = config.security
    const keys = new ApiKeySet(security.apiKeys)
    const secretFile = path.join(path.dirname(config.evercycle.tokenFile), 'session.secret')
    const secret = await loadOrCreateSecret({
      given: security.sessionSecret,
      variable: 'SESSION_SECRET',
      nodeEnv: config.nodeEnv,
      file: secretFile,
      generate: () => randomBytes(32).toString('base64url'),
      parse: (text) => text,
      messages: { generated: `SESSION_SECRET is not set: generated one and kept it in ${secretFile} (set it explicitly in production)` },
      warn: (message) => app.log.warn(message)
    })
    if (security.sessionSecret === undefined && config.flowRunner.databaseUrl !== undefined) {
      app.log.warn('SESSION_SECRET is not set while DATABASE_URL is: replicas must share it, or sessions work only on the replica that started them')
    }
    await app.register(cookie, { secret })
    const cookieOptions = {
      path: '/api',
      httpOnly: true,
      sameSite: security.cookieSameSite,
      secure: security.cookieSecure ?? config.nodeEnv === 'production',
      signed: true
    } as const

    app.decorate('sessionCookie', {
      set(reply: FastifyReply, value: string, maxAgeMs: number) {
        reply.setCookie(SESSION_COOKIE, value, { ...cookieOptions, maxAge: Math.floor(maxAgeMs / 1000) })
      },
      clear(reply: FastifyReply) {
        reply.clearCookie(SESSION_COOKIE, cookieOptions)
      },
      read(request: FastifyRequest) {
        const raw = request.cookies[SESSION_COOKIE]
        if (raw === undefined) return undefined
        const unsigned = request.unsignCookie(raw)
        return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined
      }
    })
    app.decorateRequest('identity', SERVICE_IDENTITY)

    if (config.gatewayAuth === 'none') {
      app.log.warn('GATEWAY_AUTH=none: every client that can reach the gateway calls Evercycle with the service identity')
    } else if (keys.size === 0) {
      app.log.info('no GATEWAY_API_KEYS configured: operations need a session (POST /api/auth)')
    }

    // Every hook here is synchronous (done-style): an async hook costs each request a promise and a microtask
    // even when it has nothing to do, which is the common case.
    app.addHook('onRequest', (request, _reply, done) => {
      if (SAFE_METHODS.has(request.method) || request.cookies[SESSION_COOKIE] === undefined) return done()
      if (presentedApiKey(request.headers) !== undefined) return done()
      const origin = request.headers.origin ?? refererOrigin(request.headers.referer)
      if (origin === undefined || app.originPolicy.allows(origin) || origin === ownOrigin(request)) return done()
      done(domainError('forbidden', 'Cross-site request refused: this origin may not use the session cookie'))
    })

    const unauthenticated = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
      if (request.cookies[SESSION_COOKIE] !== undefined) app.sessionCookie.clear(reply)
      done(domainError('unauthorized', 'Authentication required: sign in with POST /api/auth or present an API key'))
    }
    const authenticate = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
      const key = presentedApiKey(request.headers)
      if (key !== undefined) {
        if (!keys.matches(key)) return done(domainError('unauthorized', 'Invalid API key'))
        request.identity = SERVICE_IDENTITY
        return done()
      }
      const cookieSecret = app.sessionCookie.read(request)
      if (cookieSecret === undefined) return unauthenticated(request, reply, done)
      app.gatewaySessions.resolve(cookieSecret).then((session) => {
        if (session === undefined) return unauthenticated(request, reply, done)
        request.identity = sessionIdentity(session.id)
        done()
      }, done)
    }
    // Only routes marked `config.auth` get the check, attached to them at registration rather than asked of
    // every request (`request.routeOptions` builds a new object per access). It runs first among the route's
    // own hooks, as it ran among the global ones before them.
    if (config.gatewayAuth !== 'none') {
      app.addHook('onRoute', (route) => {
        if (route.config?.auth !== true) return
        const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
        route.onRequest = [authenticate, ...own]
      })
    }

    // a session whose own refresh was refused has ended: tell the browser to drop the cookie
    app.addHook('onError', (request, reply, error, done) => {
      if (identityKind(request.identity) === 'session' && (error as { code?: string }).code === 'unauthorized') {
        app.sessionCookie.clear(reply)
      }
      done()
    })
  },
  { name: 'gateway-auth', dependencies: ['app-config', 'cors-policy', 'token-store'] }
)

