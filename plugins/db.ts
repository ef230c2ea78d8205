import fp from 'fastify-plugin'
import type { Driver } from '../src/store/driver.js'
import { openStore } from '../src/store/open-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Driver
  }
}

/** The FlowRunner database (PGlite in DATA_DIR, or PostgreSQL at DATABASE_URL), migrated at boot. */
export default fp(
  async (app) => {
    const driver = await openStore(app.config.flowRunner, app.log.child({ plugin: 'db' }))
    app.decorate('db', driver)
    app.addHook('onClose', async () => driver.close())
  },
  { name: 'db', dependencies: ['app-config'] }
)
