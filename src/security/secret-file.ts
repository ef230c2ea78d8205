import { readOrCreateKeyFile } from '../auth/key-file.js'
import { ConfigError } from '../config.js'

export interface SecretFileOptions<T> {
  /** The value from the environment, when set. */
  given: string | undefined
  /** Environment variable name, for messages. */
  variable: string
  nodeEnv: string
  file: string
  generate: () => string
  /**
   * Turns the text (from the variable or the file) into the secret; a plain Error it throws becomes a
   * configuration error, since either way the operator has to fix the value.
   */
  parse: (text: string, from: 'variable' | 'file') => T
  /** Warnings for the operator: on generating the secret, on reusing one generated earlier, on a file others can read. */
  messages: { generated: string; reused?: string; exposed?: string }
  warn: (message: string) => void
  /** A file that can't be read or created is a configuration error (exit 78) rather than thrown as it is. */
  fileErrorsAreConfig?: boolean
}

function configError(message: string): ConfigError {
  return new ConfigError(`Invalid configuration:\n  ${message}`)
}

function asConfigError(err: unknown): ConfigError {
  return err instanceof ConfigError ? err : configError((err as Error).message)
}

function parsed<T>(parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw asConfigError(err)
  }
}


/**
 * A secret from the environment; in production it must be there. Elsewhere one is generated on first boot and
 * kept in a 0600 file (created so that two processes booting together end up with the same one), so restarts
 * keep what it signed or sealed valid. The session cookie secret, FlowRunner's JWT secret and the secrets
 * master key all come from here.
 */
export async function loadOrCreateSecret<T>(options: SecretFileOptions<T>): Promise<T> {
  const { messages, warn } = options
  if (options.given !== undefined) {
    const given = options.given
    return parsed(() => options.parse(given, 'variable'))
  }
  if (options.nodeEnv === 'production') throw configError(`${options.variable} is required when NODE_ENV=production`)
  const reading = readOrCreateKeyFile(options.file, options.generate)
  const stored = await (options.fileErrorsAreConfig === true ? reading.catch((err: unknown) => Promise.reject(asConfigError(err))) : reading)
  const secret = parsed(() => options.parse(stored.value, 'file'))
  if (stored.created) warn(messages.generated)
  else if (messages.reused !== undefined) warn(messages.reused)
  if (stored.exposed && messages.exposed !== undefined) warn(messages.exposed)
  return secret
}
