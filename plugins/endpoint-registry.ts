import fp from 'fastify-plugin'
import { loadEndpoints } from '../src/evercycle/load-endpoints.js'
import { buildRegistry, readOperationConfigs, type Registry } from '../src/evercycle/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    registry: Registry
  }
}

/** Loads `endpoints/` and `config/*.json` overrides, validated at boot. */
export default fp(
  async (app) => {
    const definitions = await loadEndpoints()
    const configs = await readOperationConfigs(app.config.evercycle.configDir)
    const registry = buildRegistry(definitions, configs)
    app.decorate('registry', registry)
    app.log.debug({ operations: registry.list().map((op) => op.name) }, 'endpoint registry loaded')
  },
  { name: 'endpoint-registry', dependencies: ['app-config'] }
)
