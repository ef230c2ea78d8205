import { randomUUID } from 'node:crypto'
import type { FastifyServerOptions, RawServerDefault } from 'fastify'
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Config } from '../src/config.js'
import { gatewayErrorBody } from '../src/http/error-body.js'
import { redactPaths, requestChildLogger, requestIdMixin, requestSerializer, urlFieldSerializer } from './logging.js'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** A client's `x-request-id` is kept when it is a sane token (so it can't forge log lines), else generated. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (oversized headers, garbage) still answer in
 * the gateway's error shape: with no URL parsed, there is no product to ask.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const code = status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request'
  const message = STATUS_CODES[status] ?? 'Bad Request'
  const body = JSON.stringify(gatewayErrorBody({ code, message, details: null }))
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
}

/** The Fastify options the app expects; server.ts and the tests both build from here. */
export function serverOptions(config: Config): FastifyServerOptions<RawServerDefault> {
  return {
    logger: {
      level: config.logLevel,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { req: requestSerializer, path: urlFieldSerializer, url: urlFieldSerializer },
      mixin: requestIdMixin
    },
    childLoggerFactory: requestChildLogger,
    genReqId: requestIdFor,
    clientErrorHandler,
    bodyLimit: config.bodyLimit,
    // the embedded database's first start (initdb) can take a while on a busy machine
    pluginTimeout: 120_000,
    trustProxy: config.trustProxy,
    // slow-loris and stuck clients don't hold sockets forever
    requestTimeout: config.evercycle.timeoutMs + 30_000,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    routerOptions: { maxParamLength: 500, ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: true, coerceTypes: 'array', useDefaults: true, allErrors: true } }
  }
}
