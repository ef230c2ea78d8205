import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { defaultConsoleDir, loadConsoleFiles, type ConsoleFiles } from '../src/console/console-files.js'
import { domainError } from '../src/errors.js'
import { DOCUMENT_HEADERS_WITHOUT_CSP } from './security-headers.js'

/**
 * The page's CSP: scripts and styles from this origin only, and the styles CodeMirror injects carry the
 * per-request nonce (no 'unsafe-inline'); requests go to this origin only (its WebSocket included).
 */
export function consoleCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'"
  ].join('; ')
}

function acceptsGzip(request: FastifyRequest): boolean {
  const accept = request.headers['accept-encoding']
  return typeof accept === 'string' && /\bgzip\b/.test(accept)
}

function notBuilt(): never {
  throw domainError('not_found', 'The console is not built: run `npm run build`')
}

/**
 * The web console at /console: the files `npm run build` made (dist/console), held in memory. The document
 * gets a fresh CSP nonce per request and is never cached; the hashed assets are cached for a year.
 */
export default fp(
  async (app, opts: { dir?: string }) => {
    const files: ConsoleFiles | undefined = await loadConsoleFiles(opts.dir ?? defaultConsoleDir())
    if (files === undefined) app.log.info('the console is not built (npm run build): /console answers 404')

    const sendIndex = async (_request: FastifyRequest, reply: FastifyReply): Promise<string> => {
      if (files === undefined) notBuilt()
      const nonce = randomBytes(16).toString('base64')
      for (const [name, value] of DOCUMENT_HEADERS_WITHOUT_CSP) reply.header(name, value)
      reply.header('content-security-policy', consoleCsp(nonce))
      reply.header('cache-control', 'no-store')
      reply.header('referrer-policy', 'no-referrer')
      reply.type('text/html; charset=utf-8')
      return files.index.before + nonce + files.index.after
    }

    app.get('/console/', { schema: { hide: true } }, sendIndex)
    app.get('/console/index.html', { schema: { hide: true } }, sendIndex)
    app.get<{ Params: { '*': string } }>('/console/assets/*', { schema: { hide: true } }, async (request, reply) => {
      const file = files?.assets.get(`assets/${request.params['*']}`)
      if (file === undefined) throw domainError('not_found', 'No such console file')
      reply.header('cache-control', 'public, max-age=31536000, immutable')
      reply.header('etag', file.etag)
      reply.header('vary', 'accept-encoding')
      reply.type(file.type)
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
      if (file.gzip !== undefined && acceptsGzip(request)) {
        reply.header('content-encoding', 'gzip')
        return reply.send(file.gzip)
      }
      return reply.send(file.body)
    })
  },
  { name: 'console', dependencies: ['security-headers'] }
)
