import fp from 'fastify-plugin'
import { ExecutionsService } from '../src/flows/executions-service.js'
import { domainError } from '../src/errors.js'
import { ChildrenRepository } from '../src/store/children-repository.js'
import { ExecutionsRepository } from '../src/store/executions-repository.js'
import { FlowsRepository } from '../src/store/flows-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    executions: ExecutionsService
  }
}

/** Executions as the routes read them: one, a page, logs, live events, children, re-run plans. */
export default fp(
  async (app) => {
    const flows = new FlowsRepository(app.db)
    app.decorate(
      'executions',
      new ExecutionsService({
        executions: new ExecutionsRepository(app.db),
        events: app.executionEvents,
        children: new ChildrenRepository(app.db),
        nodeType: (flowId, revision, nodeId) => app.engine.nodeType(flowId, revision, nodeId),
        latestRevision: async (flowId) => {
          const flow = await flows.get(flowId, null)
          if (flow === undefined) throw domainError('not_found', 'Flow not found')
          return flow.revision
        }
      })
    )
  },
  { name: 'executions-service', dependencies: ['db', 'flow-engine'] }
)
