import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions, RawServerDefault } from 'fastify'
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import appConfig from '../plugins/app-config.js'
import corsPolicy from '../plugins/cors-policy.js'
import endpointRegistry from '../plugins/endpoint-registry.js'
import errors from '../plugins/errors.js'
import gatewayAuth from '../plugins/gateway-auth.js'
import jsonBody from '../plugins/json-body.js'
import rateLimit from '../plugins/rate-limit.js'
import metrics from '../plugins/metrics.js'
import loadShedding from '../plugins/load-shedding.js'
import metricsSources from '../plugins/metrics-sources.js'
import metricsRoute from '../routes/metrics.js'
import securityHeaders from '../plugins/security-headers.js'
import evercycleClient from '../plugins/evercycle-client.js'
import operationCaller from '../plugins/operation-caller.js'
import requestId from '../plugins/request-id.js'
import swagger from '../plugins/swagger.js'
import secretVault from '../plugins/secret-vault.js'
import flowEngine from '../plugins/flow-engine.js'
import clusterEvents from '../plugins/cluster-events.js'
import websocket from '../plugins/websocket.js'
import v1Executions from '../routes/v1/executions.js'
import wsExecutions from '../routes/ws/executions.js'
import tokenStore from '../plugins/token-store.js'
import apiAuth from '../routes/api/auth.js'
import apiList from '../routes/api/list.js'
import apiOperations from '../routes/api/operations.js'
import apiReady from '../routes/api/ready.js'
import health from '../routes/health.js'
import db from '../plugins/db.js'
import flowAccounts from '../plugins/flow-accounts.js'
import flowAuth from '../plugins/flow-auth.js'
import flowDefinitions from '../plugins/flow-definitions.js'
import flowSecrets from '../plugins/flow-secrets.js'
import v1Accounts from '../routes/v1/accounts.js'
import v1Auth from '../routes/v1/auth.js'
import v1Flows from '../routes/v1/flows.js'
import v1Secrets from '../routes/v1/secrets.js'
import type { Config } from '../src/config.js'
import { redactPaths, requestSerializer, urlFieldSerializer } from './logging.js'

export interface AppOptions {
  config: Config
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** A client's `x-request-id` is kept when it is a sane token (so it can't forge log lines), else generated. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
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
function requestIdMixin(_line: object, _level: number, logger: object): object {
  const id: unknown = Reflect.get(logger, logRequestId)
  return typeof id === 'string' ? { [REQUEST_ID_LOG_LABEL]: id } : {}
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (oversized headers, garbage) still answer in
 * the gateway's error shape.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const code = status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request'
  const message = STATUS_CODES[status] ?? 'Bad Request'
  const body = JSON.stringify({ status: 'error', message, error: { code, message, details: null } })
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

/**
 * The root plugin: external plugins, then ours in dependency order, then routes. Pure: it only registers,
 * so tests build it with `inject()` and server.ts adds listen, signals and shutdown.
 */
export default async function app(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  const instance = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // JSON only: a text/plain body would otherwise reach handlers as a string
  instance.removeContentTypeParser(['text/plain'])
  await instance.register(jsonBody)
  await instance.register(appConfig, { config: opts.config })
  await instance.register(errors)
  await instance.register(requestId)
  await instance.register(securityHeaders)
  await instance.register(corsPolicy)
  // metrics time every route registered after them; load shedding refuses work before auth or rate limits
  await instance.register(metrics)
  await instance.register(loadShedding)
  await instance.register(rateLimit)
  await instance.register(swagger)
  // the database and the master key come first: with DATABASE_URL the token store lives there
  await instance.register(db)
  await instance.register(secretVault)
  await instance.register(evercycleClient)
  await instance.register(tokenStore)
  await instance.register(gatewayAuth)
  await instance.register(endpointRegistry)
  await instance.register(operationCaller)

  await instance.register(health)
  await instance.register(apiReady)
  await instance.register(metricsRoute)
  await instance.register(apiAuth)
  await instance.register(apiList)
  await instance.register(apiOperations)

  // FlowRunner (/api/v1): accounts, flows, secrets, executions
  await instance.register(flowAccounts)
  await instance.register(flowAuth)
  await instance.register(flowSecrets)
  await instance.register(flowDefinitions)
  await instance.register(v1Auth)
  await instance.register(v1Accounts)
  await instance.register(v1Secrets)
  await instance.register(v1Flows)
  await instance.register(websocket)
  await instance.register(flowEngine)
  await instance.register(clusterEvents)
  await instance.register(v1Executions)
  await instance.register(wsExecutions)
  // last: it reads from the engine, queue, token manager and upstream client
  await instance.register(metricsSources)
}
