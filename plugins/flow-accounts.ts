import fp from 'fastify-plugin'
import { AccountService } from '../src/accounts/account-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    accounts: AccountService
  }
}

/** FlowRunner accounts; on a boot that finds none, the first admin comes from FLOWRUNNER_ADMIN_EMAIL/PASSWORD. */
export default fp(
  async (app) => {
    const accounts = new AccountService(app.db)
    const { adminEmail, adminPassword } = app.config.flowRunner
    if (adminEmail !== undefined && adminPassword !== undefined) {
      const created = await accounts.bootstrapAdmin(adminEmail, adminPassword)
      if (created !== undefined) app.log.info({ accountId: created.id, email: created.email }, 'created the first FlowRunner admin')
    } else if ((await accounts.count()) === 0) {
      app.log.warn('FlowRunner has no accounts: set FLOWRUNNER_ADMIN_EMAIL and FLOWRUNNER_ADMIN_PASSWORD to create the first admin')
    }
    app.decorate('accounts', accounts)
  },
  { name: 'flow-accounts', dependencies: ['app-config', 'db'] }
)
