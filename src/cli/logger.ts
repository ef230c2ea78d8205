import type { Logger } from '../util/logger.js'
import type { OutStream } from './output.js'

/**
 * The core logs token events; a CLI keeps quiet unless asked. Only the message is printed: the objects the
 * core logs carry identities and timings, never tokens, but a terminal needs neither.
 */
export function cliLogger(verbose: boolean, stream: OutStream = process.stderr): Logger {
  const print = (level: string) => (_obj: object, msg?: string): void => {
    if (verbose && msg !== undefined) stream.write(`evercycle: ${level}: ${msg}\n`)
  }
  return { debug: print('debug'), info: print('info'), warn: print('warn'), error: print('error') }
}
