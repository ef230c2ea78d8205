import { Command } from 'commander'
import { runCommand } from '../context.js'
import { formatJson, formatTable, tableWidth, write } from '../output.js'

export function listCommand(): Command {
  return new Command('list')
    .summary('list the operations')
    .description(
      'List the operations: the typed definitions in endpoints/ merged with the JSON configs in EVERCYCLE_CONFIG_DIR ' +
        '(direct mode), or what the gateway serves at GET /api/list (with --gateway).'
    )
    .option('--json', 'print JSON (the same entries as the gateway\'s /api/list "apis")')
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle list
  $ evercycle list --json | jq -r '.[].name'`
    )
    .action(async (opts: { json?: boolean }, command: Command) =>
      runCommand(command, async (ctx) => {
        if (opts.json === true) {
          write(process.stdout, formatJson(await ctx.backend.listing(), process.stdout.isTTY === true))
          return 0
        }
        const ops = await ctx.backend.operations()
        const rows = ops.map((op) => [op.name, op.method, op.path, op.description])
        process.stdout.write(formatTable(['NAME', 'METHOD', 'PATH', 'DESCRIPTION'], rows, tableWidth(process.stdout)))
        return 0
      })
    )
}
