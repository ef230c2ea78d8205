import fp from 'fastify-plugin'
import { SecretService } from '../src/secrets/secret-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    secrets: SecretService
  }
}

/** Account secrets, sealed with the master key (see secret-vault). */
export default fp(
  async (app) => {
    app.decorate('secrets', new SecretService(app.db, app.vault))
  },
  { name: 'flow-secrets', dependencies: ['db', 'secret-vault'] }
)
