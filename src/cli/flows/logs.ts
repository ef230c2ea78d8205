import { formatJson, write, type OutStream } from '../output.js'
import { seg, type FlowRunnerClient } from './api-client.js'
import type { ExecutionEvent, LogLine, LogList } from './types.js'
import { watchExecution } from './watch-execution.js'

const PAGE = 100

export interface LogsOptions {
  follow: boolean
  level?: string | undefined
  json: boolean
  out: OutStream
}

function formatLine(l: LogLine): string {
  const where = l.node_id === null ? '' : ` [${l.node_id}${l.node_type === null ? '' : ` ${l.node_type}`}]`
  const data = l.data === null || l.data === undefined ? '' : ` ${JSON.stringify(l.data)}`
  return `${l.timestamp} ${l.level.padEnd(5)}${where} ${l.message}${data}`
}

function key(l: LogLine): string {
  return `${l.timestamp}\u0000${l.level}\u0000${l.node_id ?? ''}\u0000${l.message}`
}

const LEVELS = ['debug', 'info', 'warn', 'error']

function fromEvent(e: ExecutionEvent): LogLine {
  return { timestamp: e.timestamp, level: e.level ?? 'info', message: e.message ?? '', node_id: e.node_id ?? null, node_type: e.node_type ?? null, data: e.data ?? null }
}

/**
 * `flows logs`: every log line of an execution, in order (paged through the API). With `follow`, the live
 * socket is opened first and its lines held until the stored ones are printed, so none falls between the two;
 * it ends when the execution does.
 */
export async function printLogs(client: FlowRunnerClient, id: string, options: LogsOptions): Promise<number> {
  const print = (l: LogLine): void => write(options.out, options.json ? formatJson(l, false) : formatLine(l))
  const minLevel = options.level === undefined ? 0 : LEVELS.indexOf(options.level)
  const seen = new Set<string>()
  let held: LogLine[] | undefined = []
  const live = (l: LogLine): void => {
    if (LEVELS.indexOf(l.level) < minLevel || seen.has(key(l))) return
    seen.add(key(l))
    print(l)
  }
  const watch = options.follow
    ? watchExecution(client, id, (e) => {
        if (e.type !== 'log') return
        if (held !== undefined) held.push(fromEvent(e))
        else live(fromEvent(e))
      })
    : undefined
  try {
    const level = options.level === undefined ? '' : `&level=${seg(options.level)}`
    let offset = 0
    const stored = async (): Promise<void> => {
      for (;;) {
        const page = await client.call<LogList>('GET', `/api/v1/executions/${seg(id)}/logs?limit=${PAGE}&offset=${offset}${level}`)
        for (const l of page.logs) live(l)
        offset += page.logs.length
        if (page.logs.length === 0 || offset >= page.total) return
      }
    }
    await stored()
    if (watch === undefined) return 0
    for (const l of held ?? []) live(l)
    held = undefined
    await watch.ended
    // lines the socket did not carry (it fell back to polling, which reports statuses only)
    await stored()
    return 0
  } finally {
    watch?.stop()
  }
}
