import fp from 'fastify-plugin'
import { credentialsSource } from '../src/evercycle/credentials.js'
import { TokenManager } from '../src/evercycle/token-manager.js'
import { DbTokenStore } from '../src/evercycle/db-token-store.js'
import { FileTokenStore, type TokenStore } from '../src/evercycle/token-store.js'
import { registerTokenMetrics } from '../src/metrics/token-metrics.js'
import { GatewaySessions } from '../src/security/gateway-sessions.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenManager
    gatewaySessions: GatewaySessions
  }
}

/**
 * Token sets per identity (the service and each session), persisted, renewed single-flight: in-process always,
 * and across replicas when the store is the shared database.
 */
export default fp(
  async (app) => {
    const ec = app.config.evercycle
    // PostgreSQL (DATABASE_URL) shares tokens and sessions between replicas; one box keeps the files
    const store: TokenStore =
      app.db.kind === 'postgres' ? new DbTokenStore(app.db, app.vault) : await FileTokenStore.open(ec.tokenFile)
    const manager = new TokenManager(store, app.evercycleClient, {
      skewMs: ec.refreshSkewMs,
      signInBackoffMs: ec.signInBackoffMs,
      credentials: credentialsSource(ec.username, ec.password, ec.configDir),
      log: app.log.child({ plugin: 'token-store' })
    })
    // read at scrape time: nothing between scrapes
    registerTokenMetrics(app.metrics.registry, () => manager.events)
    app.decorate('tokens', manager)
    app.decorate('gatewaySessions', new GatewaySessions(store, manager, app.config.security.sessionTtlMs))
    app.addHook('onClose', async () => store.close())
  },
  { name: 'token-store', dependencies: ['app-config', 'metrics', 'evercycle-client', 'db', 'secret-vault'] }
)
