import path from 'node:path'
import fp from 'fastify-plugin'
import { generateMasterKey, parseMasterKey } from '../src/secrets/master-key.js'
import { SecretVault } from '../src/secrets/vault.js'
import { loadOrCreateSecret } from '../src/security/secret-file.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** AES-256-GCM with the master key: FlowRunner secrets, and Evercycle tokens at rest in the database. */
    vault: SecretVault
  }
}

export const SECRETS_KEY_FILE = 'flowrunner-secrets.key'

/**
 * The master key FLOWRUNNER_SECRETS_KEY. Outside production a missing key is generated once into DATA_DIR;
 * losing that file loses every stored secret, hence the warning. Replicas must share the variable.
 */
export default fp(
  async (app) => {
    const fr = app.config.flowRunner
    const file = path.join(fr.dataDir, SECRETS_KEY_FILE)
    const key = await loadOrCreateSecret({
      given: fr.secretsKey,
      variable: 'FLOWRUNNER_SECRETS_KEY',
      nodeEnv: app.config.nodeEnv,
      file,
      generate: generateMasterKey,
      parse: parseMasterKey,
      messages: {
        generated: 'FLOWRUNNER_SECRETS_KEY is not set: generated a secrets master key; back it up or set the variable',
        reused: 'FLOWRUNNER_SECRETS_KEY is not set: using the generated key in DATA_DIR',
        exposed: 'the secrets key file is readable by other users: chmod 600 it'
      },
      warn: (message) => app.log.warn({ file }, message),
      // as it always was for this key: an unusable DATA_DIR stops the boot as a configuration error
      fileErrorsAreConfig: true
    })
    app.decorate('vault', new SecretVault(key))
  },
  { name: 'secret-vault', dependencies: ['app-config'] }
)
