import fp from 'fastify-plugin'
import { FlowService } from '../src/flows/flow-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    flows: FlowService
  }
}

/** Versioned YAML flows, validated against the node types and the gateway's Evercycle operations. */
export default fp(
  async (app) => {
    app.decorate('flows', new FlowService(app.db, { hasOperation: (name) => app.registry.get(name) !== undefined }))
  },
  { name: 'flow-definitions', dependencies: ['db', 'endpoint-registry'] }
)
