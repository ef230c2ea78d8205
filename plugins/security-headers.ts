import { IncomingMessage, ServerResponse, type OutgoingHttpHeader } from 'node:http'
import { Socket } from 'node:net'
import type { onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

type HeaderList = ReadonlyArray<readonly [string, OutgoingHttpHeader]>

/**
 * Security headers of the JSON API (every response but the docs UI's pages), as OWASP's REST cheat sheet
 * lists them: a CSP that allows nothing and no framing, no sniffing, and HSTS (on secure requests only, see
 * `HSTS`). No Cross-Origin-Resource-Policy: its absence restricts nothing, which is all `cross-origin` would
 * say, and CORS decides who reads responses. Helmet's other headers steer how a browser treats an HTML
 * document (referrer, DNS prefetch, opener, legacy IE and Flash switches): a JSON body has no use for them,
 * and each costs every response a header to validate and write, and every client one to parse.
 */
const API_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: false,
  strictTransportSecurity: false,
  xContentTypeOptions: true,
  xFrameOptions: { action: 'deny' },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xPoweredBy: false,
  xXssProtection: false
}

/**
 * The docs UI's HTML pages get helmet's full document set: a strict CSP that lets the UI run its own scripts
 * and inline styles only, no framing, and the rest of helmet's defaults.
 */
const DOCUMENT_OPTIONS: HelmetOptions = {
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
  strictTransportSecurity: false,
  // helmet's default is SAMEORIGIN, which would contradict frame-ancestors 'none' above for old browsers
  xFrameOptions: { action: 'deny' }
}

/**
 * The headers helmet sets for these options, computed once. Nothing in them depends on the request (no CSP
 * nonces, no per-request directives), so running helmet per request, as @fastify/helmet does (it rebuilds the
 * middleware and re-parses the CSP each time), only costs time. Helmet itself writes them here, onto a detached
 * response, so the values stay exactly helmet's.
 */
export function securityHeaders(options: HelmetOptions): HeaderList {
  const res = new ServerResponse(new IncomingMessage(new Socket()))
  helmet(options)(res.req, res, (err) => {
    if (err !== undefined) throw err
  })
  const headers: Array<readonly [string, OutgoingHttpHeader]> = []
  for (const [name, value] of Object.entries(res.getHeaders())) if (value !== undefined) headers.push([name, value])
  return headers
}

/**
 * HSTS, sent only on requests that arrived over HTTPS: on TLS to this server, or through a trusted proxy
 * (TRUST_PROXY) that says `X-Forwarded-Proto: https`, as Caddy does. RFC 6797 §7.2: a host must not send it
 * over plain HTTP, where an attacker could forge or strip it anyway.
 */
const HSTS = securityHeaders({ strictTransportSecurity: { maxAge: 15552000, includeSubDomains: true } }).find(
  ([name]) => name === 'strict-transport-security'
)
if (HSTS === undefined) throw new Error('helmet set no Strict-Transport-Security header')
const [HSTS_NAME, HSTS_VALUE] = HSTS

/** Sets `headers` on every response; with `hsts`, Strict-Transport-Security too on secure requests. */
function headerHook(headers: HeaderList, hsts: boolean): onRequestHookHandler {
  // synchronous: an async hook costs every request a promise and a microtask
  return (request, reply, done) => {
    for (const [name, value] of headers) reply.header(name, value)
    if (hsts && request.protocol === 'https') reply.header(HSTS_NAME, HSTS_VALUE)
    done()
  }
}

/**
 * For the docs UI's routes (`uiHooks.onRequest`): the HTML document set, over the API set already there (HSTS
 * included: the global hook has decided it).
 */
export const documentHeaders: onRequestHookHandler = headerHook(securityHeaders(DOCUMENT_OPTIONS), false)

/** The document set without its CSP, for a page that sends its own (the console's, with a per-request nonce). */
export const DOCUMENT_HEADERS_WITHOUT_CSP: HeaderList = securityHeaders({ ...DOCUMENT_OPTIONS, contentSecurityPolicy: false })

export default fp(
  async (app) => {
    // before routing-dependent hooks: 404s, errors and CORS preflights carry them too
    app.addHook('onRequest', headerHook(securityHeaders(API_OPTIONS), true))
  },
  { name: 'security-headers' }
)
