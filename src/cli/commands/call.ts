import { Command } from 'commander'
import { callRequestFrom, type CallFlags } from '../call-input.js'
import { exitCodeOf, usageError } from '../cli-error.js'
import { runCommand } from '../context.js'
import { collect } from '../kv.js'
import { printError } from '../output.js'
import { performCall } from '../perform-call.js'
import { printEnvelope } from '../print-response.js'

interface CallOptions extends CallFlags {
  pretty?: boolean
  raw?: boolean
}

export function callCommand(): Command {
  return new Command('call')
    .summary('call one operation and print its response')
    .description(
      'Call one operation with token refresh (renewed tokens are saved back to auth.properties) and print the ' +
        'response as the gateway answers it: {"status":"success","data":<Evercycle JSON>}, pretty on a terminal, ' +
        'raw otherwise. On failure the error is printed on stderr in the gateway\'s shape ' +
        '{"status":"error","message",...,"error":{"code","message","details"}} and the exit code is 1. ' +
        'Config defaults (query_params, path_params, body) apply under what you pass.'
    )
    .argument('<operation>', 'operation name (see evercycle list)')
    .option('-p, --param <key=value>', 'path parameter, taken wherever the operation expects it (query or body); repeatable', collect)
    .option('-q, --query <key=value>', 'query parameter; repeat a key for a list; repeatable', collect)
    .option('-b, --body <json|@file|@->', 'JSON object body: inline, from a file, or from stdin')
    .option('-s, --set <key=value>', 'set one body field as text (key:=json for numbers, booleans, objects); repeatable', collect)
    .option('--pretty', 'pretty-print even when stdout is not a terminal')
    .option('--raw', 'print the response exactly as received even on a terminal')
    .addHelpText(
      'after',
      `
Exit codes: 0 success, 1 the call failed (error on stderr), 2 bad command line.

Examples:
  $ evercycle call get-all --query status=active
  $ evercycle call get-asset-id --param id=1001
  $ evercycle call create --set name="MacBook Pro 14" --set serialNumber=SN-1
  $ evercycle call create-request --body @request.json
  $ evercycle call edit-asset-id --param id=1001 --body '{"status":"retired"}'
  $ evercycle call grade --param id=PB-1 --param grade=A --set price:=120
  $ evercycle call get-all --gateway http://127.0.0.1:5000 --api-key "$KEY"`
    )
    .action(async (operation: string, opts: CallOptions, command: Command) =>
      runCommand(command, async (ctx) => {
        if (opts.pretty === true && opts.raw === true) throw usageError('--pretty and --raw exclude each other')
        const request = await callRequestFrom(operation, opts)
        const outcome = await performCall(ctx, request)
        if (!outcome.ok) {
          printError(outcome.error)
          return exitCodeOf(outcome.error)
        }
        const pretty = opts.pretty === true || (opts.raw !== true && process.stdout.isTTY === true)
        await printEnvelope(outcome.result.envelope, process.stdout, pretty)
        return 0
      })
    )
}
