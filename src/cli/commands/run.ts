import { Command } from 'commander'
import { errorBody, statusOf, usageError } from '../cli-error.js'
import { runCommand } from '../context.js'
import { formatJson, formatTable, write } from '../output.js'
import { performCall } from '../perform-call.js'

interface RunFlags {
  all?: boolean
  bail?: boolean
  json?: boolean
}

interface RunRow {
  operation: string
  method: string
  path: string
  ok: boolean
  status: number | null
  code: string | null
  message: string | null
  ms: number
}

const SIGN_IN_STATES = {
  valid: 'saved tokens are valid',
  refreshed: 'tokens refreshed',
  'signed-in': 'signed in with the configured credentials',
  'gateway-ready': 'the gateway is signed in',
  'gateway-signed-in': 'the gateway signed in with the configured credentials',
  'gateway-session': 'using the gateway session'
} as const

export function runOperationsCommand(): Command {
  return new Command('run')
    .summary('run operations in sequence with a summary')
    .description(
      'Run configured operations one after the other with their config defaults (query_params, path_params, ' +
        'body from EVERCYCLE_CONFIG_DIR), signing in first when the saved tokens are missing or expired ' +
        '(EVERCYCLE_USERNAME/PASSWORD or config/auth-signin.json). Progress goes to stderr, a summary table ' +
        '(operation, status, time) to stdout; responses are kept in the history (evercycle history --bodies).'
    )
    .argument('[operations...]', 'operation names, in the order to run them')
    .option('-a, --all', 'run every operation, in name order')
    .option('--bail', 'stop at the first failure')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 all succeeded, 1 any failed (or sign-in failed), 2 bad command line.

Examples:
  $ evercycle run --all
  $ evercycle run get-all get-asset-id --bail
  $ evercycle run --all --gateway http://127.0.0.1:5000 --json`
    )
    .action(async (operations: string[], opts: RunFlags, command: Command) =>
      runCommand(command, async (ctx) => {
        if (opts.all === true && operations.length > 0) throw usageError('Give operation names or --all, not both')
        if (opts.all !== true && operations.length === 0) throw usageError('Name the operations to run, or pass --all')
        const known = await ctx.backend.operations()
        const names = opts.all === true ? known.map((o) => o.name) : operations
        const unknown = names.filter((n) => !known.some((o) => o.name === n))
        if (unknown.length > 0) throw usageError(`Unknown operation(s): ${unknown.join(', ')}`, { known: known.map((o) => o.name) })

        const err = process.stderr
        err.write(`Signing in (${ctx.backend.target}) … `)
        try {
          const state = await ctx.backend.ensureSignedIn()
          err.write(`${SIGN_IN_STATES[state]}\n`)
        } catch (e) {
          err.write('failed\n')
          throw e
        }

        const rows: RunRow[] = []
        for (const [i, name] of names.entries()) {
          err.write(`[${i + 1}/${names.length}] ${name} … `)
          const outcome = await performCall(ctx, { operation: name, pathParams: {}, query: {} })
          if (outcome.ok) {
            // the response is in the history; here only its status matters
            if (outcome.result.envelope.kind === 'stream') outcome.result.envelope.stream.destroy()
            rows.push({ operation: name, method: outcome.method, path: outcome.path, ok: true, status: outcome.result.statusCode, code: null, message: null, ms: outcome.ms })
            err.write(`${outcome.result.statusCode} (${outcome.ms} ms)\n`)
          } else {
            const failure = errorBody(outcome.error).error
            const status = statusOf(outcome.error) ?? null
            rows.push({ operation: name, method: outcome.method, path: outcome.path, ok: false, status, code: failure.code, message: failure.message, ms: outcome.ms })
            err.write(`failed: ${failure.code}: ${failure.message} (${outcome.ms} ms)\n`)
            if (opts.bail === true) break
          }
        }

        const failed = rows.filter((r) => !r.ok).length
        if (opts.json === true) {
          write(process.stdout, formatJson({ ok: failed === 0, results: rows }, process.stdout.isTTY === true))
        } else {
          const table = rows.map((r) => [r.operation, r.ok ? String(r.status) : `${r.status ?? '-'} ${r.code ?? ''}`.trim(), `${r.ms} ms`])
          process.stdout.write(formatTable(['OPERATION', 'STATUS', 'TIME'], table))
          const notRun = names.length - rows.length
          write(
            process.stdout,
            `${rows.length - failed} succeeded, ${failed} failed${notRun > 0 ? `, ${notRun} not run` : ''} (${rows.reduce((s, r) => s + r.ms, 0)} ms)`
          )
        }
        return failed > 0 ? 1 : 0
      })
    )
}

