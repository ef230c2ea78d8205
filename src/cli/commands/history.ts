import { Command, InvalidArgumentError } from 'commander'
import { runCommand } from '../context.js'
import type { HistoryEntry } from '../history.js'
import { formatJson, formatTable, tableWidth, write } from '../output.js'

interface HistoryFlags {
  bodies?: boolean
  limit: number
  json?: boolean
  clear?: boolean
}

function parseLimit(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number (0 for all)')
  return n
}

function bodies(entry: HistoryEntry): string {
  const parts: string[] = []
  if (entry.request.query !== undefined && Object.keys(entry.request.query as object).length > 0) {
    parts.push(`  query:    ${JSON.stringify(entry.request.query)}`)
  }
  if (entry.request.body !== undefined) parts.push(`  request:  ${JSON.stringify(entry.request.body, null, 2).replace(/\n/g, '\n  ')}`)
  if (entry.response !== undefined) parts.push(`  response: ${JSON.stringify(entry.response, null, 2).replace(/\n/g, '\n  ')}`)
  return parts.join('\n')
}

export function historyCommand(): Command {
  return new Command('history')
    .summary('show the request/response history')
    .description(
      'Show the calls made by call, run and interactive (method, path, status, time), newest last. The history ' +
        'is a JSON-lines file (EVERCYCLE_HISTORY_FILE, default history.jsonl in the per-user state directory: ' +
        'EVERCYCLE_STATE_DIR, else $XDG_STATE_HOME/evercycle, else ~/.local/state/evercycle; mode 0600) with secrets redacted (password/token/key/secret/cookie fields, JWTs, the API key) and a size ' +
        'cap (EVERCYCLE_HISTORY_MAX_BYTES, default 1 MiB: the oldest entries go first; bodies over 1/8 of the cap, ' +
        'at most 16 KiB, are cut). --no-history on any command keeps that command out of it.'
    )
    .option('--bodies', 'also show query, request and response bodies')
    .option('-n, --limit <n>', 'show the last n entries (0 for all)', parseLimit, 20)
    .option('--json', 'print the entries as JSON lines')
    .option('--clear', 'delete the history file')
    .addHelpText(
      'after',
      `
Examples:
  $ evercycle history
  $ evercycle history --bodies --limit 3
  $ evercycle history --json | jq 'select(.ok == false)'`
    )
    .action(async (opts: HistoryFlags, command: Command) =>
      runCommand(command, async (ctx) => {
        const history = ctx.history
        if (history === undefined) {
          write(process.stderr, 'The history is off (--no-history).')
          return 0
        }
        if (opts.clear === true) {
          await history.clear()
          write(process.stdout, `Cleared ${history.file}.`)
          return 0
        }
        const all = await history.read()
        const entries = opts.limit === 0 ? all : all.slice(-opts.limit)
        if (opts.json === true) {
          for (const e of entries) write(process.stdout, formatJson(opts.bodies === true ? e : { ...e, request: undefined, response: undefined }, false))
          return 0
        }
        if (entries.length === 0) {
          write(process.stdout, `No history yet (${history.file}).`)
          return 0
        }
        const header = ['TIME', 'OPERATION', 'METHOD', 'PATH', 'STATUS', 'MS']
        const row = (e: HistoryEntry): string[] => [
          e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
          e.operation,
          e.method,
          e.path,
          e.ok ? String(e.status ?? '') : `${e.status ?? '-'} ${e.error?.code ?? ''}`.trim(),
          String(e.ms)
        ]
        if (opts.bodies !== true) {
          process.stdout.write(formatTable(header, entries.map(row), tableWidth(process.stdout)))
          return 0
        }
        for (const e of entries) {
          write(process.stdout, row(e).join('  '))
          const detail = bodies(e)
          if (detail !== '') write(process.stdout, detail)
        }
        return 0
      })
    )
}
