import { Command } from 'commander'
import { runCommand } from '../context.js'
import { credentialsFrom, type CredentialFlags } from '../credentials-input.js'
import { write } from '../output.js'

export function authCommand(): Command {
  return new Command('auth')
    .summary('sign in to Evercycle and keep the tokens')
    .description(
      'Sign in to Evercycle. Direct mode writes the tokens to auth.properties (TOKEN_FILE; atomic, mode 0600), ' +
        'where every later command reads them at call time and renews them when they expire. With --gateway, ' +
        'the gateway signs in (POST /api/auth) and keeps the tokens itself: for its service identity ' +
        '(GATEWAY_AUTH=none), or in a session of your own (GATEWAY_AUTH=session) whose cookie the CLI keeps in ' +
        'gateway-sessions in the per-user state directory (EVERCYCLE_STATE_DIR, else $XDG_STATE_HOME/evercycle, ' +
        'else ~/.local/state/evercycle; 0600 in a 0700 directory) and sends on later calls made without --api-key. ' +
        'Tokens are never printed.'
    )
    .option('-u, --username <username>', 'Evercycle username (default: EVERCYCLE_USERNAME, else prompted)')
    .option('--password-stdin', 'read the password from the first line of stdin instead of prompting (hidden)')
    .addHelpText(
      'after',
      `
Password: --password-stdin, else EVERCYCLE_PASSWORD (for EVERCYCLE_USERNAME), else a hidden prompt.
It is never accepted as an argument.

Examples:
  $ evercycle auth --username ops@example.com
  $ printf '%s\\n' "$EVERCYCLE_PASSWORD" | evercycle auth -u ops@example.com --password-stdin
  $ evercycle auth --gateway https://api.veraetime.net -u ops@example.com`
    )
    .action(async (opts: CredentialFlags, command: Command) =>
      runCommand(command, async (ctx) => {
        const credentials = await credentialsFrom(opts, ctx.config)
        ctx.rememberSecret(credentials.password)
        const result = await ctx.backend.signIn(credentials)
        const until = result.expiresAt === undefined ? '' : `, valid until ${result.expiresAt}`
        const who = `Signed in to Evercycle as ${credentials.username}`
        if (result.kind === 'token-file') {
          write(process.stdout, `${who} (${ctx.backend.target}). Tokens saved to ${result.storedIn} (mode 0600${until}).`)
        } else if (result.kind === 'gateway-session') {
          write(
            process.stdout,
            `${who} through the gateway at ${result.storedIn}: it started a session and keeps the tokens${until}. ` +
              `The session cookie is kept in ${result.sessionFile ?? '?'} (mode 0600) and used by later commands without --api-key.`
          )
        } else {
          write(process.stdout, `${who} through the gateway at ${result.storedIn}; the gateway keeps the tokens for its service identity${until}.`)
        }
        return 0
      })
    )
}
