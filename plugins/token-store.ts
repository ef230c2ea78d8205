import fp from 'fastify-plugin'
import { credentialsSource } from '../src/evercycle/credentials.js'
import { TokenManager } from '../src/evercycle/token-manager.js'
import { FileTokenStore } from '../src/evercycle/token-store.js'
import { SessionService } from '../src/security/sessions.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenManager
    gatewaySessions: SessionService
  }
}

/** Token sets per identity (the service and each session), persisted, renewed single-flight. */
export default fp(
  async (app) => {
    const ec = app.config.evercycle
    const store = await FileTokenStore.open(ec.tokenFile)
    const manager = new TokenManager(store, app.evercycleClient, {
      skewMs: ec.refreshSkewMs,
      signInBackoffMs: ec.signInBackoffMs,
      credentials: credentialsSource(ec.username, ec.password, ec.configDir),
      log: app.log.child({ plugin: 'token-store' })
    })
    app.decorate('tokens', manager)
    app.decorate('gatewaySessions', new SessionService(store, manager, app.config.security.sessionTtlMs))
    app.addHook('onClose', async () => store.close())
  },
  { name: 'token-store', dependencies: ['app-config', 'evercycle-client'] }
)
