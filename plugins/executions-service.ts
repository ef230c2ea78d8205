import fp from 'fastify-plugin'
import { ExecutionsService } from '../src/flows/executions-service.js'
import { ExecutionsRepository } from '../src/store/executions-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    executions: ExecutionsService
  }
}

/** Executions as the routes read them: one, a page, logs, live events. */
export default fp(
  async (app) => {
    app.decorate(
      'executions',
      new ExecutionsService({
        executions: new ExecutionsRepository(app.db),
        events: app.executionEvents,
        nodeType: (flowId, revision, nodeId) => app.engine.nodeType(flowId, revision, nodeId)
      })
    )
  },
  { name: 'executions-service', dependencies: ['db', 'flow-engine'] }
)
