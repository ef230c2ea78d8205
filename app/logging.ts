import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'

/**
 * Log redaction by path, always on: credentials and tokens may sit in headers, bodies and error details.
 * Fastify's default request serializer logs no headers or bodies; these paths cover what our own code and
 * plugins might log.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["access-token"]',
  // a browser's WebSocket carries its token as the `bearer, <token>` subprotocol pair (the console does)
  'req.headers["sec-websocket-protocol"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["access-token"]',
  'headers["x-api-key"]',
  'headers["sec-websocket-protocol"]',
  'password',
  '*.password',
  'current_password',
  '*.current_password',
  'token',
  '*.token',
  'accessToken',
  'idToken',
  'refreshToken',
  '*.accessToken',
  '*.idToken',
  '*.refreshToken',
  'AccessToken',
  'IdToken',
  'RefreshToken',
  '*.AccessToken',
  '*.IdToken',
  '*.RefreshToken',
  'secret',
  '*.secret',
  'value',
  '*.value'
]

const SECRET_PARAMS = new Set(['token', 'access_token', 'api_key', 'apikey', 'key', 'password', 'secret'])
/** One query parameter: its name (up to `=`) and its value (up to the next `&`, `;` or `#`). */
const QUERY_PARAM = /([?&;])([^=&;#]*)(=?)([^&;#]*)/g

/** The name as the query parser will see it (percent-decoded, any case); undecodable names count as secret. */
function isSecretParam(rawName: string): boolean {
  try {
    return SECRET_PARAMS.has(decodeURIComponent(rawName.replace(/\+/g, ' ')).trim().toLowerCase())
  } catch {
    return true
  }
}

/**
 * An inbound webhook's path: its id is the credential (no token is needed), so only its first characters
 * are logged, enough to tell hooks apart.
 */
const HOOK_PATH = /^(\/api\/v1\/hooks\/[^/?#]{0,9})[^/?#]+/

/** A URL as it may be logged: a webhook's id and the values of credential-like query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  const path = (q === -1 ? url : url.slice(0, q)).replace(HOOK_PATH, '$1[redacted]')
  if (q === -1) return path
  return (
    path +
    url.slice(q).replace(QUERY_PARAM, (whole: string, sep: string, name: string, eq: string, value: string) =>
      eq !== '' && value !== '' && isSecretParam(name) ? `${sep}${name}=[redacted]` : whole
    )
  )
}

interface LoggedRequest {
  method: string
  url: string
  host?: string
  ip?: string
  socket?: { remotePort?: number }
}

/**
 * Fastify's request serializer, except that the URL goes through `redactUrl`: browsers can only authenticate
 * a WebSocket with `?token=`, and that token must not land in the access log.
 */
export function requestSerializer(req: LoggedRequest): Record<string, unknown> {
  return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }
}

/**
 * For a line's `path` or `url` field: plugins log the raw request URL under these names (@fastify/websocket's
 * "no websocket handler" line logs `{ path: request.url }`), and a browser's `?token=` must not reach the log
 * that way either. Values that are not strings (or have no query) pass through unchanged.
 */
export function urlFieldSerializer(value: unknown): unknown {
  return typeof value === 'string' ? redactUrl(value) : value
}

/** Fastify's binding name for the request id in request log lines (its default `requestIdLogLabel`). */
const REQUEST_ID_LOG_LABEL = 'reqId'
/** Where a request's logger keeps its id; a child of it inherits it (pino children are prototype-chained). */
const logRequestId = Symbol('reqId')
interface RequestIdCarrier {
  [logRequestId]?: string
}

/**
 * Request loggers without per-request redaction work. Fastify makes every request a child logger bound to its
 * id, and pino stringifies a child's bindings through the redaction's wildcard paths: ~3 µs per request, for a
 * value that is a UUID or a validated token, even when nothing is ever logged. The id is kept on the child
 * instead, and `requestIdMixin` adds it to each line the child writes, so it costs only when a line is written.
 */
export const requestChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = function (logger, bindings, opts) {
  const { [REQUEST_ID_LOG_LABEL]: id, ...rest } = bindings
  // No bindings and no per-route level or serializers (the usual request): an object on the logger's
  // prototype chain is all a child would be, without pino re-deriving its level methods and bindings for it.
  const child: FastifyBaseLogger & RequestIdCarrier =
    isEmpty(rest) && isEmpty(opts) ? (Object.create(logger) as FastifyBaseLogger) : logger.child(rest, opts)
  if (typeof id === 'string') child[logRequestId] = id
  return child
}

function isEmpty(value: object): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return false
  return true
}

/** The `reqId` of lines written by a request's logger (or a child of it). */
export function requestIdMixin(_line: object, _level: number, logger: object): object {
  const id: unknown = Reflect.get(logger, logRequestId)
  return typeof id === 'string' ? { [REQUEST_ID_LOG_LABEL]: id } : {}
}
