import path from 'node:path'
import fp from 'fastify-plugin'
import { readOrCreateKeyFile } from '../src/auth/key-file.js'
import { ConfigError } from '../src/config.js'
import { generateMasterKey, parseMasterKey } from '../src/secrets/master-key.js'
import { SecretVault } from '../src/secrets/vault.js'

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
    let key: Buffer
    try {
      if (fr.secretsKey !== undefined) {
        key = parseMasterKey(fr.secretsKey)
      } else if (app.config.nodeEnv === 'production') {
        throw new Error('FLOWRUNNER_SECRETS_KEY is required when NODE_ENV=production')
      } else {
        const file = path.join(fr.dataDir, SECRETS_KEY_FILE)
        const stored = await readOrCreateKeyFile(file, generateMasterKey)
        key = parseMasterKey(stored.value)
        app.log.warn(
          { file },
          stored.created
            ? 'FLOWRUNNER_SECRETS_KEY is not set: generated a secrets master key; back it up or set the variable'
            : 'FLOWRUNNER_SECRETS_KEY is not set: using the generated key in DATA_DIR'
        )
        if (stored.exposed) app.log.warn({ file }, 'the secrets key file is readable by other users: chmod 600 it')
      }
    } catch (err) {
      throw new ConfigError(`Invalid configuration:\n  ${(err as Error).message}`)
    }
    app.decorate('vault', new SecretVault(key))
  },
  { name: 'secret-vault', dependencies: ['app-config'] }
)
