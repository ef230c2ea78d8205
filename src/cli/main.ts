import { CommanderError } from 'commander'
import { exitCodeOf } from './cli-error.js'
import { printError } from './output.js'
import { buildProgram } from './program.js'

/**
 * The `evercycle` entry (bin/evercycle.js imports the built copy). Commander's own usage errors exit 2;
 * commands set their exit code themselves, so a finished command lets the process end on its own and every
 * byte written to a pipe gets out.
 */
const program = buildProgram()

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version are "errors" with code 0; commander already printed the message
    process.exitCode = err.exitCode === 0 ? 0 : 2
  } else {
    printError(err)
    process.exitCode = exitCodeOf(err)
  }
}
