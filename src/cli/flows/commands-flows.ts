import { Command } from 'commander'
import { formatJson, formatTable, isTty, tableWidth, write } from '../output.js'
import { allFlows, resolveFlow } from './resolve-flow.js'
import { runFlows } from './run-command.js'
import { EXIT_INTERRUPTED, runFlow } from './run-flow.js'
import { runInput } from './run-input.js'

export function listFlowsCommand(): Command {
  return new Command('list')
    .summary('list the flows')
    .option('--json', 'print the flows as JSON')
    .action(async (opts: { json?: boolean }, command: Command) =>
      runFlows(command, async (ctx) => {
        const { client } = await ctx.authed()
        const flows = await allFlows(client)
        if (opts.json === true) {
          write(process.stdout, formatJson(flows, isTty(process.stdout)))
          return 0
        }
        const rows = flows.map((f) => [f.id, f.name, f.version ?? '', f.updated_at, f.tags.join(',')])
        process.stdout.write(formatTable(['ID', 'NAME', 'VERSION', 'UPDATED', 'TAGS'], rows, tableWidth(process.stdout)))
        return 0
      })
    )
}

export function getFlowCommand(): Command {
  return new Command('get')
    .summary('print a flow\'s YAML definition')
    .argument('<flow>', 'flow id or name')
    .option('--json', 'print the flow with its metadata as JSON instead')
    .action(async (flow: string, opts: { json?: boolean }, command: Command) =>
      runFlows(command, async (ctx) => {
        const { client } = await ctx.authed()
        const found = await resolveFlow(client, flow)
        if (opts.json === true) write(process.stdout, formatJson(found, isTty(process.stdout)))
        else write(process.stdout, found.definition)
        return 0
      })
    )
}

export function applyCommand(): Command {
  return new Command('apply')
    .summary('create or update flows from YAML files')
    .description(
      'Create or update flows from a YAML file, or every *.yaml/*.yml file in a directory, matched to stored flows ' +
        'by metadata.name. Every file is validated first and every problem printed as file:line:column: message; ' +
        'nothing is saved while any file has one. A file whose text equals the stored definition is left alone ' +
        '(no new version); an update prints a diff and the new revision.'
    )
    .argument('<path>', 'a .yaml file or a directory of them')
    .option('--dry-run', 'validate and show what would change, without saving')
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle flows apply flows/orders.yaml
  $ evercycle flows apply flows/ --dry-run`
    )
    .action(async (target: string, opts: { dryRun?: boolean }, command: Command) =>
      runFlows(command, async (ctx) => {
        // the validator pulls in every node type: loaded only for the command that needs it
        const { applyDefinitions } = await import('./apply.js')
        const { client } = await ctx.authed()
        return applyDefinitions(client, target, { dryRun: opts.dryRun === true, out: process.stdout, err: process.stderr })
      })
    )
}

export function runFlowCommand(): Command {
  return new Command('run')
    .summary('run a flow, optionally waiting with live progress')
    .description(
      'Start an execution and print its id. With --wait, show node progress on stderr (rewritten in place on a ' +
        'terminal, plain lines when piped) until it ends, then print the execution on stdout. Exit codes with ' +
        `--wait: 0 completed, 1 failed or cancelled, ${EXIT_INTERRUPTED} interrupted. Ctrl-C asks whether to cancel ` +
        'the execution on a terminal, and cancels it without asking otherwise.'
    )
    .argument('<flow>', 'flow id or name')
    .option('-i, --input <json>', 'the input: a JSON object, or @file.json')
    .option('-w, --wait', 'wait for the end, showing progress')
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle flows run "Orders" --input '{"order_id": 42}' --wait
  $ evercycle flows run flow-0b6c… --input @input.json`
    )
    .action(async (flow: string, opts: { input?: string; wait?: boolean }, command: Command) =>
      runFlows(command, async (ctx) => {
        const input = await runInput(opts.input)
        const { client } = await ctx.authed()
        const found = await resolveFlow(client, flow)
        return runFlow(client, found.id, input, {
          wait: opts.wait === true,
          out: process.stdout,
          err: process.stderr,
          interactive: process.stdin.isTTY === true && process.stderr.isTTY === true
        })
      })
    )
}
