import { Command } from 'commander'
import { write } from '../output.js'
import { FlowRunnerClient } from './api-client.js'
import { sessionFrom } from './auth.js'
import { runFlows } from './run-command.js'
import { readEmail, readSecret } from './secret-input.js'
import type { TokenReply } from './types.js'

export function loginCommand(): Command {
  return new Command('login')
    .summary('log in to a FlowRunner server and keep the token')
    .description(
      'Log in (POST /api/v1/auth/login) and keep the token in flowrunner-sessions.json in the state directory ' +
        '(EVERCYCLE_STATE_DIR, mode 0600), per server URL. Later commands refresh it once past half its life; ' +
        'an expired token cannot be refreshed, so log in again then. The password comes from stdin when piped, ' +
        'else a hidden prompt; it is never an argument.'
    )
    .option('-e, --email <email>', 'the account email (default: FLOWRUNNER_EMAIL, else prompted)')
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle flows login --email ops@example.com
  $ printf '%s\\n' "$FLOWRUNNER_PASSWORD" | FLOWRUNNER_EMAIL=ops@example.com evercycle flows login`
    )
    .action(async (opts: { email?: string }, command: Command) =>
      runFlows(command, async (ctx) => {
        const email = await readEmail(opts.email)
        const secret = await readSecret('Password', false)
        const client = new FlowRunnerClient(ctx.server)
        try {
          const reply = await client.call<TokenReply>('POST', '/api/v1/auth/login', { username: email, password: secret })
          await ctx.sessions.set(ctx.server, sessionFrom(reply, email))
          write(
            process.stdout,
            `Logged in to ${ctx.server} as ${email} (account ${reply.account_id}) until ${reply.expires_at}; ` +
              `token kept in ${ctx.sessions.file} (mode 0600).`
          )
          return 0
        } finally {
          await client.close()
        }
      })
    )
}

export function logoutCommand(): Command {
  return new Command('logout')
    .summary('revoke the token and forget the login')
    .description('Revoke the saved token on the server (POST /api/v1/auth/logout) and remove it from the session file.')
    .action(async (_opts: object, command: Command) =>
      runFlows(command, async (ctx) => {
        const session = await ctx.sessions.get(ctx.server)
        if (session === undefined) {
          write(process.stdout, `Not logged in to ${ctx.server}.`)
          return 0
        }
        const client = new FlowRunnerClient(ctx.server, session.token)
        try {
          // a token already expired or revoked is as good as logged out
          if (session.expiresAt > Date.now()) await client.maybe('POST', '/api/v1/auth/logout', [401])
        } finally {
          await client.close()
          await ctx.sessions.delete(ctx.server)
        }
        write(process.stdout, `Logged out of ${ctx.server}.`)
        return 0
      })
    )
}
