import { Command, Option } from 'commander'
import { authCommand } from './commands/auth.js'
import { callCommand } from './commands/call.js'
import { flowsCommand } from './commands/flows.js'
import { generateCommand } from './commands/generate.js'
import { historyCommand } from './commands/history.js'
import { interactiveCommand } from './commands/interactive.js'
import { listCommand } from './commands/list.js'
import { runOperationsCommand } from './commands/run.js'
import { packageVersion } from './package-version.js'

const ENVIRONMENT = `
Environment (the same variables as the gateway server):
  EVERCYCLE_BASE_URL           Evercycle API (default https://api.evercycle.io)
  EVERCYCLE_CONFIG_DIR         operation configs, <name>.json (default ./config)
  TOKEN_FILE                   auth.properties holding the tokens (default <config dir>/../auth.properties)
  EVERCYCLE_USERNAME/PASSWORD  credentials used to sign in again when a refresh is refused
                               (else <config dir>/auth-signin.json, as the old tool kept them)
  UPSTREAM_TIMEOUT_MS          per-request timeout (default 15000)
  TOKEN_REFRESH_SKEW_SECONDS   renew tokens this long before they expire (default 60)
CLI only:
  EVERCYCLE_GATEWAY_URL        same as --gateway
  EVERCYCLE_GATEWAY_API_KEY    same as --api-key (prefer it: arguments show up in ps and shell history)
  EVERCYCLE_STATE_DIR          per-user state: the history, gateway session cookies (mode 0700; default
                               $XDG_STATE_HOME/evercycle, else ~/.local/state/evercycle)
  EVERCYCLE_HISTORY_FILE       history file (default history.jsonl in the state directory)
  EVERCYCLE_HISTORY_MAX_BYTES  history size cap (default 1048576)
  FLOWRUNNER_URL               FlowRunner server for evercycle flows (same as --server; default
                               http://127.0.0.1:$PORT, PORT default 5000)
  FLOWRUNNER_EMAIL             email for evercycle flows login (same as --email)

Examples:
  $ evercycle auth --username ops@example.com
  $ evercycle list
  $ evercycle call get-asset-id --param id=1001
  $ evercycle generate ./evercycle-api --out ./config
  $ evercycle run --all
  $ evercycle interactive
  $ evercycle history --bodies
  $ evercycle flows apply ./flows && evercycle flows run "Orders" --input '{"n": 1}' --wait
  $ EVERCYCLE_GATEWAY_API_KEY=... evercycle call get-all --gateway https://api.veraetime.net`

/** The `evercycle` command: one subcommand per file in commands/, global options for where calls go. */
export function buildProgram(): Command {
  const program = new Command('evercycle')
    .description(
      'Evercycle from the command line: sign in, list, call and run operations, generate their configs from ' +
        'markdown specs, a menu-driven mode and a call history. Straight to Evercycle with the gateway\'s own core ' +
        '(default), or through a running gateway with --gateway.'
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .addOption(new Option('--gateway <url>', 'call through a running gateway at this URL instead of Evercycle directly'))
    .addOption(new Option('--api-key <key>', 'the gateway\'s API key, sent as x-api-key (or EVERCYCLE_GATEWAY_API_KEY)'))
    .option('--no-history', 'do not record this command\'s calls in the history file')
    .option('-v, --verbose', 'log token renewals to stderr')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError()
    .addHelpText('after', ENVIRONMENT)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    // usage errors are thrown to main, which exits 2 (commander's default would be 1, like a failed call)
    .exitOverride()
  for (const command of [
    authCommand(),
    listCommand(),
    callCommand(),
    runOperationsCommand(),
    generateCommand(),
    interactiveCommand(),
    historyCommand(),
    flowsCommand()
  ]) {
    program.addCommand(command.copyInheritedSettings(program))
  }
  return program
}
