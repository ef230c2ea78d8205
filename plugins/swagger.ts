import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { SESSION_COOKIE } from '../src/security/gateway-sessions.js'
import { documentHeaders } from './security-headers.js'

/**
 * OpenAPI generated from the routes' TypeBox schemas; the UI at /docs (with the HTML document's security
 * headers), the document at /docs/json.
 */
export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Evercycle gateway',
          description: 'Token-managing gateway for the Evercycle API, and FlowRunner.',
          version: '0.1.0'
        },
        components: {
          securitySchemes: {
            apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
            bearer: { type: 'http', scheme: 'bearer', description: 'A gateway API key as a bearer token' },
            session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /api/auth' }
          }
        },
        tags: [
          { name: 'gateway', description: 'Health, authentication and the operation list' },
          { name: 'operations', description: 'Evercycle operations, generated from endpoints/ and config/' }
        ]
      }
    })
    await app.register(swaggerUi, { routePrefix: '/docs', uiHooks: { onRequest: documentHeaders } })
  },
  { name: 'swagger' }
)
