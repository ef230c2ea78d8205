import type { FastifyInstance } from 'fastify'
import gatewayAuth from '../plugins/gateway-auth.js'
import apiAuth from '../routes/api/auth.js'
import apiList from '../routes/api/list.js'
import apiOperations from '../routes/api/operations.js'
import apiReady from '../routes/api/ready.js'
import health from '../routes/health.js'
import metricsRoute from '../routes/metrics.js'
import { gatewayErrors } from './error-handlers.js'

/**
 * The Evercycle gateway as an encapsulated context: its error shape for its routes and for every URL no
 * product claims (it sets the root prefix's not-found handler).
 */
export default async function gateway(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(gatewayErrors.errorHandler)
  app.setNotFoundHandler(gatewayErrors.notFoundHandler)
  await app.register(health)
  await app.register(metricsRoute)
  // `/api/` rather than `/api`: the bare `/api` is no route of the gateway's API and never had its CSRF rule
  await app.register(api, { prefix: '/api/' })
}

/**
 * `/api/*`: client auth and the session cookie's CSRF rule hold for every request here, unknown URLs
 * included (this prefix's not-found handler runs this context's hooks). FlowRunner's `/api/v1` is a sibling
 * context with a longer prefix, so none of it reaches FlowRunner.
 */
async function api(app: FastifyInstance): Promise<void> {
  await app.register(gatewayAuth)
  app.setNotFoundHandler(gatewayErrors.notFoundHandler)
  await app.register(apiReady)
  await app.register(apiAuth)
  await app.register(apiList)
  await app.register(apiOperations)
}
