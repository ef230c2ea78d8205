import { Command } from 'commander'
import { formatJson, formatTable, isTty, tableWidth, write } from '../output.js'
import { seg } from './api-client.js'
import { runFlows } from './run-command.js'
import { readSecret } from './secret-input.js'
import type { SecretInfo } from './types.js'

type AccountFlag = { account?: string }

function accountOption(command: Command): Command {
  return command.option('-a, --account <id>', 'whose secrets (default: the logged-in account; admins may name another)')
}

function setCommand(): Command {
  return accountOption(
    new Command('set')
      .summary('create or replace a secret (value from stdin or a hidden prompt)')
      .description(
        'Store a secret for flows to read as secrets.<KEY>: created (POST), or replaced (PUT) when the key exists. The ' +
          'value is read from stdin when piped (all of it, less the final newline), else from a hidden prompt; it is ' +
          'never an argument, and never printed.'
      )
      .argument('<key>', 'letters, digits and _, not starting with a digit')
  )
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle flows secrets set API_KEY                     # prompts (hidden)
  $ printf '%s' "$TOKEN" | evercycle flows secrets set API_KEY`
    )
    .action(async (key: string, opts: AccountFlag, command: Command) =>
      runFlows(command, async (ctx) => {
        const { client, session } = await ctx.authed()
        const value = await readSecret(`Value for ${key}`, true)
        const base = `/api/v1/accounts/${seg(opts.account ?? session.accountId)}/secrets`
        const created = await client.maybe<SecretInfo>('POST', base, [409], { key, value })
        if (created !== undefined) {
          write(process.stdout, `Created secret ${created.key}.`)
          return 0
        }
        const updated = await client.call<SecretInfo>('PUT', `${base}/${seg(key)}`, { value })
        write(process.stdout, `Updated secret ${updated.key} (${updated.updated_at}).`)
        return 0
      })
    )
}

function listCommand(): Command {
  return accountOption(new Command('list').summary('list the secret keys (never the values)').option('--json', 'print JSON')).action(
    async (opts: AccountFlag & { json?: boolean }, command: Command) =>
      runFlows(command, async (ctx) => {
        const { client, session } = await ctx.authed()
        const { secrets } = await client.call<{ secrets: SecretInfo[] }>('GET', `/api/v1/accounts/${seg(opts.account ?? session.accountId)}/secrets`)
        if (opts.json === true) write(process.stdout, formatJson(secrets, isTty(process.stdout)))
        else process.stdout.write(formatTable(['KEY', 'CREATED', 'UPDATED'], secrets.map((s) => [s.key, s.created_at, s.updated_at]), tableWidth(process.stdout)))
        return 0
      })
  )
}

function deleteCommand(): Command {
  return accountOption(new Command('delete').summary('delete a secret').argument('<key>')).action(async (key: string, opts: AccountFlag, command: Command) =>
    runFlows(command, async (ctx) => {
      const { client, session } = await ctx.authed()
      await client.call('DELETE', `/api/v1/accounts/${seg(opts.account ?? session.accountId)}/secrets/${seg(key)}`)
      write(process.stdout, `Deleted secret ${key}.`)
      return 0
    })
  )
}

export function secretsCommand(): Command {
  return new Command('secrets').summary("manage the account's secrets").addCommand(setCommand()).addCommand(listCommand()).addCommand(deleteCommand())
}
