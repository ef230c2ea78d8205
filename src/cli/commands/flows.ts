import { Command } from 'commander'
import { cancelCommand, executionsCommand, logsCommand } from '../flows/commands-executions.js'
import { applyCommand, getFlowCommand, listFlowsCommand, runFlowCommand } from '../flows/commands-flows.js'
import { secretsCommand } from '../flows/commands-secrets.js'
import { loginCommand, logoutCommand } from '../flows/commands-session.js'

/** Commander settings the program sets are copied only one level down: the nested commands get them here. */
function settle(command: Command): void {
  for (const sub of command.commands) {
    sub.exitOverride().showHelpAfterError('(run with --help for usage)').configureHelp({ showGlobalOptions: true })
    settle(sub)
  }
}

/** `evercycle flows …`: FlowRunner flows as code, against a running server. */
export function flowsCommand(): Command {
  const flows = new Command('flows')
    .summary('FlowRunner flows as code: log in, apply YAML, run, watch, logs, secrets')
    .description(
      'Work with a FlowRunner server (/api/v1): log in, list and print flows, apply YAML definitions (create or ' +
        'update by metadata.name, validated first, idempotent), run them with live node progress, list executions, ' +
        'read or follow their logs, cancel them, and manage secrets. The server is --server, else FLOWRUNNER_URL, ' +
        'else http://127.0.0.1:$PORT (default 5000). The login is kept per server in flowrunner-sessions.json in ' +
        'the state directory (mode 0600).'
    )
    .option('--server <url>', 'FlowRunner server URL (default: FLOWRUNNER_URL, else http://127.0.0.1:$PORT, PORT default 5000)')
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle flows login --email ops@example.com
  $ evercycle flows apply flows/
  $ evercycle flows run "Orders" --input '{"order_id": 42}' --wait
  $ evercycle flows logs exec-… --follow
  $ printf '%s' "$TOKEN" | evercycle flows secrets set API_KEY`
    )
  for (const sub of [
    loginCommand(),
    logoutCommand(),
    listFlowsCommand(),
    getFlowCommand(),
    applyCommand(),
    runFlowCommand(),
    executionsCommand(),
    logsCommand(),
    cancelCommand(),
    secretsCommand()
  ]) {
    flows.addCommand(sub)
  }
  settle(flows)
  return flows
}
