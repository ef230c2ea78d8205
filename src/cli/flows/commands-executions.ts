import { Command, InvalidArgumentError, Option } from 'commander'
import { formatJson, formatTable, isTty, tableWidth, write } from '../output.js'
import { seg } from './api-client.js'
import { printLogs } from './logs.js'
import { resolveFlow } from './resolve-flow.js'
import { runFlows } from './run-command.js'
import type { ExecutionList } from './types.js'

const STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'cancelled']

function parseLimit(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('a whole number from 1 to 100')
  return n
}

export function executionsCommand(): Command {
  return new Command('executions')
    .summary('list executions, newest first')
    .option('-f, --flow <flow>', 'only this flow\'s (id or name)')
    .addOption(new Option('-s, --status <status>', 'only executions with this status').choices(STATUSES))
    .option('-n, --limit <n>', 'how many (1-100)', parseLimit, 20)
    .option('--json', 'print the executions as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle flows executions --flow "Orders" --status failed`
    )
    .action(async (opts: { flow?: string; status?: string; limit: number; json?: boolean }, command: Command) =>
      runFlows(command, async (ctx) => {
        const { client } = await ctx.authed()
        const query = new URLSearchParams({ limit: String(opts.limit) })
        if (opts.flow !== undefined) query.set('flow_id', (await resolveFlow(client, opts.flow)).id)
        if (opts.status !== undefined) query.set('status', opts.status)
        const list = await client.call<ExecutionList>('GET', `/api/v1/executions?${query.toString()}`)
        if (opts.json === true) {
          write(process.stdout, formatJson(list.executions, isTty(process.stdout)))
          return 0
        }
        const rows = list.executions.map((e) => [
          e.id,
          e.flow_id,
          String(e.flow_version),
          e.status,
          e.started_at ?? '',
          e.duration === null ? '' : `${e.duration} ms`,
          e.error ?? ''
        ])
        process.stdout.write(formatTable(['ID', 'FLOW', 'REV', 'STATUS', 'STARTED', 'DURATION', 'ERROR'], rows, tableWidth(process.stdout)))
        return 0
      })
    )
}

export function logsCommand(): Command {
  return new Command('logs')
    .summary('print an execution\'s logs')
    .argument('<execution>', 'execution id')
    .option('-f, --follow', 'keep printing new lines until the execution ends')
    .addOption(new Option('-l, --level <level>', 'this level and above').choices(['debug', 'info', 'warn', 'error']))
    .option('--json', 'one JSON object per line')
    .action(async (id: string, opts: { follow?: boolean; level?: string; json?: boolean }, command: Command) =>
      runFlows(command, async (ctx) => {
        const { client } = await ctx.authed()
        return printLogs(client, id, { follow: opts.follow === true, level: opts.level, json: opts.json === true, out: process.stdout })
      })
    )
}

export function cancelCommand(): Command {
  return new Command('cancel')
    .summary('cancel an execution')
    .description('Cancel an execution (DELETE /api/v1/executions/:id): the running node is aborted and nothing after it runs. An execution that already ended is a conflict (exit 1).')
    .argument('<execution>', 'execution id')
    .action(async (id: string, _opts: object, command: Command) =>
      runFlows(command, async (ctx) => {
        const { client } = await ctx.authed()
        await client.call('DELETE', `/api/v1/executions/${seg(id)}`)
        write(process.stdout, `Cancelled ${id}.`)
        return 0
      })
    )
}
