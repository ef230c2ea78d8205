import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { SESSION_COOKIE } from '../src/security/gateway-sessions.js'
import { documentHeaders } from './security-headers.js'

/** The OpenAPI security scheme of FlowRunner's bearer JWT (app/flowrunner.ts declares it on its routes). */
export const FLOWRUNNER_JWT_SCHEME = 'flowrunnerJwt'

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
        // each scheme says which half of the server takes it: a gateway credential is no FlowRunner token
        components: {
          securitySchemes: {
            apiKey: {
              type: 'apiKey',
              in: 'header',
              name: 'x-api-key',
              description: 'Gateway operations (/api/<operation>): one of the keys in GATEWAY_API_KEYS. Not accepted by FlowRunner (/api/v1).'
            },
            bearer: {
              type: 'http',
              scheme: 'bearer',
              description:
                'Gateway operations (/api/<operation>): a key from GATEWAY_API_KEYS sent as Authorization: Bearer <key>. ' +
                'An API key, not a JWT; FlowRunner (/api/v1) takes flowrunnerJwt instead.'
            },
            session: {
              type: 'apiKey',
              in: 'cookie',
              name: SESSION_COOKIE,
              description: 'Gateway operations (/api/<operation>): the signed session cookie POST /api/auth sets (a browser sends it by itself).'
            },
            [FLOWRUNNER_JWT_SCHEME]: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description:
                'FlowRunner (/api/v1): the token POST /api/v1/auth/login returns (HS256, expires after FLOWRUNNER_JWT_TTL), ' +
                'sent as Authorization: Bearer <token>. Paste the token alone in Authorize.'
            }
          }
        },
        tags: [
          { name: 'gateway', description: 'Health, authentication and the operation list' },
          { name: 'operations', description: 'Evercycle operations, generated from endpoints/ and config/' },
          { name: 'flowrunner', description: 'FlowRunner: log in (POST /api/v1/auth/login), then Authorize flowrunnerJwt with the token' }
        ]
      }
    })
    await app.register(swaggerUi, { routePrefix: '/docs', uiHooks: { onRequest: documentHeaders } })
  },
  { name: 'swagger' }
)
