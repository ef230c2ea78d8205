import { Command } from 'commander'
import { runCommand } from '../context.js'
import { runInteractive } from '../interactive.js'

export function interactiveCommand(): Command {
  return new Command('interactive')
    .alias('i')
    .summary('menu-driven calls')
    .description(
      'A menu: pick an operation, fill in its path parameters, query parameters, headers (direct mode) and ' +
        'body fields with the config defaults offered (Enter keeps them), call it, read the response, then call ' +
        'again, change the values, go back to the list or quit. "Sign in" asks for a username and hidden password. ' +
        'Every call goes to the history.'
    )
    .addHelpText(
      'after',
      `
Keys: arrows to move, Enter to choose, Ctrl+C to leave.
Body values whose default is not text are read as JSON (12, true, ["a"]); extra fields take key=value or
key:=json.

Examples:
  $ evercycle interactive
  $ evercycle interactive --gateway http://127.0.0.1:5000`
    )
    .action(async (_opts: object, command: Command) =>
      runCommand(command, async (ctx) => {
        try {
          return await runInteractive(ctx)
        } catch (err) {
          // Ctrl+C or the input closing mid-prompt: leave quietly, as a shell would
          if (err instanceof Error && err.name === 'ExitPromptError') return 130
          throw err
        }
      })
    )
}
