import { randomBytes } from 'node:crypto'
import { readOrCreateKeyFile } from '../auth/key-file.js'
import { ConfigError } from '../config.js'

export interface SecretFileOptions {
  /** The value from the environment, when set. */
  given: string | undefined
  /** Environment variable name, for messages. */
  variable: string
  nodeEnv: string
  file: string
  bytes: number
  /** Told when a secret is generated, so operators know to set the variable. */
  warn: (message: string) => void
}

/**
 * A secret from the environment; in production it must be there. Elsewhere one is generated on first boot and
 * kept in a 0600 file (created so that two processes booting together end up with the same one), so restarts
 * keep signed cookies valid.
 */
export async function loadOrCreateSecret(options: SecretFileOptions): Promise<string> {
  if (options.given !== undefined) return options.given
  if (options.nodeEnv === 'production') {
    throw new ConfigError(`Invalid configuration:\n  ${options.variable} is required when NODE_ENV=production`)
  }
  const stored = await readOrCreateKeyFile(options.file, () => randomBytes(options.bytes).toString('base64url'))
  if (stored.created) {
    options.warn(`${options.variable} is not set: generated one and kept it in ${options.file} (set it explicitly in production)`)
  }
  return stored.value
}
