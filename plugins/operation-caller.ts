import fp from 'fastify-plugin'
import { OperationCaller } from '../src/evercycle/operation-caller.js'

declare module 'fastify' {
  interface FastifyInstance {
    operations: OperationCaller
  }
}

/** Performs registry operations with managed tokens, through the upstream budget; shared by `/api/*` and FlowRunner's evercycle node. */
export default fp(
  async (app) => {
    app.decorate('operations', new OperationCaller(app.evercycleClient, app.tokens, app.upstreamBudget))
  },
  { name: 'operation-caller', dependencies: ['evercycle-client', 'token-store', 'upstream-budget'] }
)
