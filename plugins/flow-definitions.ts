import fp from 'fastify-plugin'
import { evercyclePolicy } from '../src/flows/evercycle-policy.js'
import { FlowService } from '../src/flows/flow-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    flows: FlowService
  }
}

/**
 * Versioned YAML flows, validated against the node types and the gateway's Evercycle operations, and against
 * the operations the flow owner's role may call (FLOWRUNNER_EVERCYCLE_OPERATIONS).
 */
export default fp(
  async (app) => {
    const allowed = app.config.flowRunner.evercycleOperations
    const unknown = (allowed ?? []).filter((name) => name !== '*' && app.registry.get(name) === undefined)
    if (unknown.length > 0) app.log.warn({ operations: unknown }, 'FLOWRUNNER_EVERCYCLE_OPERATIONS names operations the registry does not have')
    const policy = evercyclePolicy(allowed)
    app.decorate(
      'flows',
      new FlowService(app.db, {
        hasOperation: (name) => app.registry.get(name) !== undefined,
        mayCallOperation: (role, name) => {
          const op = app.registry.get(name)
          return op !== undefined && policy(role, op)
        }
      })
    )
  },
  { name: 'flow-definitions', dependencies: ['app-config', 'db', 'endpoint-registry'] }
)
