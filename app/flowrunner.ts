import type { FastifyInstance, RouteOptions } from 'fastify'
import { FLOWRUNNER_JWT_SCHEME } from '../plugins/swagger.js'
import v1Accounts from '../routes/v1/accounts.js'
import v1Auth from '../routes/v1/auth.js'
import v1Executions from '../routes/v1/executions.js'
import v1Flows from '../routes/v1/flows.js'
import v1GatewayStatus from '../routes/v1/gateway-status.js'
import v1Hooks from '../routes/v1/hooks.js'
import v1Secrets from '../routes/v1/secrets.js'
import v1Triggers from '../routes/v1/triggers.js'
import wsExecutions from '../routes/ws/executions.js'
import { flowRunnerErrors } from './error-handlers.js'

/**
 * FlowRunner as encapsulated contexts: `/api/v1/*` and `/ws/*`, errors and unknown URLs in its own shape. Its
 * decorators (accounts, sessions, engine...) are shared plugins registered at the root. It comes in two parts
 * because @fastify/websocket, registered at the root between them, wraps every route registered after it
 * (an upgrade request to such a route gets a 101): the REST API is registered before it and answers an
 * upgrade request as plain HTTP, the executions (REST and live) after it.
 */
export async function flowRunnerApi(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(flowRunnerErrors.errorHandler)
  app.addHook('onRoute', declareJwt)
  await app.register(v1, { prefix: '/api/v1' })
}

/** Executions: `/api/v1/executions*` and the live `/ws/executions/:id`, under the same error shape. */
export async function flowRunnerLive(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(flowRunnerErrors.errorHandler)
  app.addHook('onRoute', declareJwt)
  await app.register(v1Executions, { prefix: '/api/v1' })
  // `/ws/` rather than `/ws`: the bare `/ws` is no FlowRunner URL, and its 404 stays the gateway's
  await app.register(ws, { prefix: '/ws/' })
}

/**
 * FlowRunner's routes take its bearer JWT unless they say otherwise: the OpenAPI document declares it on every
 * route that does not declare its own `security` (login and the inbound webhooks say `security: []`), so the
 * docs UI's Authorize sends the token to them, and a route added later is documented as authenticated, as it
 * is. test/v1/openapi-security.test.ts checks the document against what each route answers without a token.
 */
function declareJwt(route: RouteOptions): void {
  if (route.schema === undefined || route.schema.hide === true || route.schema.security !== undefined) return
  route.schema = { ...route.schema, security: [{ [FLOWRUNNER_JWT_SCHEME]: [] }] }
}

/**
 * @fastify/cors answers the preflights it allows in its hook, at the root. An OPTIONS request it leaves (no
 * origin, or one off the list) goes on to its catch-all route, also at the root, whose 404 is the gateway's:
 * this prefix's own catch-all sends it to FlowRunner's not-found handler instead.
 */
function optionsNotFound(app: FastifyInstance, paths: string[]): void {
  for (const path of paths) app.options(path, { schema: { hide: true } }, (_request, reply) => reply.callNotFound())
}

async function v1(app: FastifyInstance): Promise<void> {
  app.setNotFoundHandler(flowRunnerErrors.notFoundHandler)
  // the bare prefix too: `/api/v1` is FlowRunner's
  optionsNotFound(app, ['/', '/*'])
  await app.register(v1Auth)
  await app.register(v1Accounts)
  await app.register(v1Secrets)
  await app.register(v1Flows)
  await app.register(v1Triggers)
  await app.register(v1GatewayStatus)
  // no session: the hook id (and a signature) authenticate; its own JSON parser keeps the raw body
  await app.register(v1Hooks)
}

async function ws(app: FastifyInstance): Promise<void> {
  app.setNotFoundHandler(flowRunnerErrors.notFoundHandler)
  optionsNotFound(app, ['/*'])
  await app.register(wsExecutions)
}
