import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { ConfigError } from '../config.js'
import { writeFileAtomic } from '../util/atomic-write.js'

export interface SecretFileOptions {
  /** The value from the environment, when set. */
  given: string | undefined
  /** Environment variable name, for messages. */
  variable: string
  nodeEnv: string
  file: string
  bytes: number
  /** Told once when a secret is generated, so operators know to set the variable. */
  warn: (message: string) => void
}

/**
 * A secret from the environment; in production it must be there. Elsewhere one is generated on first boot and
 * kept in a 0600 file so restarts (and signed cookies, encrypted values) survive.
 */
export async function loadOrCreateSecret(options: SecretFileOptions): Promise<string> {
  if (options.given !== undefined) return options.given
  if (options.nodeEnv === 'production') {
    throw new ConfigError(`Invalid configuration:\n  ${options.variable} is required when NODE_ENV=production`)
  }
  try {
    const existing = (await readFile(options.file, 'utf8')).trim()
    if (existing.length > 0) return existing
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const secret = randomBytes(options.bytes).toString('base64url')
  await writeFileAtomic(options.file, `${secret}\n`, 0o600)
  options.warn(`${options.variable} is not set: generated one and kept it in ${options.file} (set it explicitly in production)`)
  return secret
}
