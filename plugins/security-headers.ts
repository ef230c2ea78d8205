import { IncomingMessage, ServerResponse, type OutgoingHttpHeader } from 'node:http'
import { Socket } from 'node:net'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * Security headers for a JSON API that browser UIs on other origins call: no framing, no sniffing, a strict
 * CSP (the docs UI needs its own scripts and inline styles only), and a cross-origin resource policy so CORS,
 * not CORP, decides who reads responses.
 */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"]
    }
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  crossOriginEmbedderPolicy: false,
  hsts: { maxAge: 15552000, includeSubDomains: true }
}

/**
 * The headers helmet sets for these options, computed once. Nothing in them depends on the request (no CSP
 * nonces, no per-request directives), so running helmet per request, as @fastify/helmet does (it rebuilds the
 * middleware and re-parses the CSP each time), only costs time. Helmet itself writes them here, onto a detached
 * response, so the values stay exactly helmet's.
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): ReadonlyArray<readonly [string, OutgoingHttpHeader]> {
  const res = new ServerResponse(new IncomingMessage(new Socket()))
  helmet(options)(res.req, res, (err) => {
    if (err !== undefined) throw err
  })
  const headers: Array<readonly [string, OutgoingHttpHeader]> = []
  for (const [name, value] of Object.entries(res.getHeaders())) if (value !== undefined) headers.push([name, value])
  return headers
}

export default fp(
  async (app) => {
    const headers = securityHeaders()
    // synchronous, and before routing-dependent hooks: 404s, errors and CORS preflights carry them too
    app.addHook('onRequest', (_request, reply, done) => {
      for (const [name, value] of headers) reply.header(name, value)
      done()
    })
  },
  { name: 'security-headers' }
)
