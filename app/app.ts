import type { FastifyInstance } from 'fastify'
import appConfig from '../plugins/app-config.js'
import clusterEvents from '../plugins/cluster-events.js'
import consolePages from '../plugins/console.js'
import corsPolicy from '../plugins/cors-policy.js'
import db from '../plugins/db.js'
import endpointRegistry from '../plugins/endpoint-registry.js'
import evercycleClient from '../plugins/evercycle-client.js'
import executionsService from '../plugins/executions-service.js'
import flowAccounts from '../plugins/flow-accounts.js'
import flowAuth from '../plugins/flow-auth.js'
import flowDefinitions from '../plugins/flow-definitions.js'
import flowEngine from '../plugins/flow-engine.js'
import flowTriggers from '../plugins/flow-triggers.js'
import flowSecrets from '../plugins/flow-secrets.js'
import jsonBody from '../plugins/json-body.js'
import loadShedding from '../plugins/load-shedding.js'
import metrics from '../plugins/metrics.js'
import operationCaller from '../plugins/operation-caller.js'
import upstreamBudget from '../plugins/upstream-budget.js'
import rateLimit from '../plugins/rate-limit.js'
import requestId from '../plugins/request-id.js'
import secretVault from '../plugins/secret-vault.js'
import securityHeaders from '../plugins/security-headers.js'
import swagger from '../plugins/swagger.js'
import tokenStore from '../plugins/token-store.js'
import websocket from '../plugins/websocket.js'
import type { Config } from '../src/config.js'
import { gatewayErrors } from './error-handlers.js'
import { flowRunnerApi, flowRunnerLive } from './flowrunner.js'
import gateway from './gateway.js'

export interface AppOptions {
  config: Config
}

/**
 * The root plugin: what applies to every request and the decorators both products share, then the two
 * products as encapsulated contexts. Pure: it only registers, so tests build it with `inject()` and server.ts
 * adds listen, signals and shutdown.
 */
export default async function app(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  // JSON only: a text/plain body would otherwise reach handlers as a string
  fastify.removeContentTypeParser(['text/plain'])
  await fastify.register(jsonBody)
  await fastify.register(appConfig, { config: opts.config })
  // the root's own routes (the docs UI, CORS preflights) answer in the gateway's shape, as they always have
  fastify.setErrorHandler(gatewayErrors.errorHandler)
  await fastify.register(requestId)
  await fastify.register(securityHeaders)
  await fastify.register(corsPolicy)
  // metrics time every route registered after them; load shedding refuses work before auth or rate limits
  await fastify.register(metrics)
  await fastify.register(loadShedding)
  await fastify.register(swagger)
  // the web console's static files (built by `npm run build`), over the same public APIs
  await fastify.register(consolePages)
  // the database and the master key come first: with DATABASE_URL the token store and rate limits live there
  await fastify.register(db)
  await fastify.register(secretVault)
  await fastify.register(rateLimit)
  await fastify.register(evercycleClient)
  await fastify.register(tokenStore)
  await fastify.register(endpointRegistry)
  // the cross-replica bus before its users: the upstream budget's 429 pause and the engine's events cross it
  await fastify.register(clusterEvents)
  await fastify.register(upstreamBudget)
  await fastify.register(operationCaller)
  // FlowRunner's decorators: shared, since the engine calls the gateway's operations
  await fastify.register(flowAccounts)
  await fastify.register(flowAuth)
  await fastify.register(flowSecrets)
  await fastify.register(flowDefinitions)
  await fastify.register(flowEngine)
  await fastify.register(executionsService)
  await fastify.register(flowTriggers)

  await fastify.register(gateway)
  await fastify.register(flowRunnerApi)
  // Hooks at the root (an upgrade request's socket is destroyed once answered) so they hold everywhere, but
  // only routes registered after it take upgrades (a route that is no WebSocket accepts one, then closes it):
  // the gateway's routes and FlowRunner's REST API answer an upgrade request as the plain HTTP request it is.
  await fastify.register(websocket)
  await fastify.register(flowRunnerLive)
}
