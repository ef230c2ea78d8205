import fp from 'fastify-plugin'
import { ConfigError, requiredInProductionMessage, type Config } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

/**
 * Exposes the validated configuration the process booted with. Registered first, so it also stops a production
 * boot that lacks required secrets (all of them named in one error, before anything opens) and warns about
 * variables that look like settings but are none: a misspelled name would otherwise be ignored in silence.
 */
export default fp<{ config: Config }>(
  async (app, opts) => {
    const { config } = opts
    const missing = config.diagnostics.missingProductionSecrets
    if (config.nodeEnv === 'production' && missing.length > 0) {
      throw new ConfigError(`Invalid configuration:\n  ${missing.map(requiredInProductionMessage).join('\n  ')}`)
    }
    // the name only: a value set under a wrong name may well be a secret
    for (const { name, suggestion } of config.diagnostics.unknownVariables) {
      const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`
      app.log.warn({ variable: name, suggestion }, `unknown environment variable ${name}${hint}: it is ignored`)
    }
    app.decorate('config', config)
  },
  { name: 'app-config' }
)
