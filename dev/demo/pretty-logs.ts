import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { constants } from 'node:os'
import { createInterface } from 'node:readline'


type Prettify = (log: object) => string

/** pino-pretty is a devDependency: without it (an install without dev dependencies) the logs stay JSON. */
async function prettifier(): Promise<Prettify | undefined> {
  try {
    const { prettyFactory } = await import('pino-pretty')
    return prettyFactory({ colorize: process.stdout.isTTY === true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  } catch {
    return undefined
  }
}

/** A line of pino JSON pretty-printed; anything else (the banner, webhook deliveries) as it came. */
function render(line: string, prettify: Prettify): string {
  if (line.startsWith('{"level":')) {
    try {
      return prettify(JSON.parse(line) as object)
    } catch {
      // not a log line after all
    }
  }
  return `${line}\n`
}

/**
 * The server logs pino JSON to its stdout, which only its logger options could change; the demo's logs are for
 * people, so the demo runs itself as a child process and pretty-prints the log lines of its stdout, in order
 * with the rest. Returns false in that child (or when pino-pretty is missing): the caller runs the demo there.
 * Resolves true in the parent once the child has ended, with its exit code set.
 */
export async function superviseWithPrettyLogs(): Promise<boolean> {
  // set in the demo's own process, which the supervisor starts
  if (process.env.EVERCYCLE_DEMO_SERVER === '1') {
    // a parent that goes, even killed, closes this pipe: stop too rather than hold the ports
    process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'))
    process.stdin.resume()
    return false
  }
  const prettify = await prettifier()
  if (prettify === undefined) return false
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, EVERCYCLE_DEMO_SERVER: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
    // its own process group: Ctrl-C reaches the parent only, which passes it on once (a second SIGINT makes
    // the server exit without draining)
    detached: true
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal))
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => process.stdout.write(render(line, prettify)))
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
  // as a shell reports a process a signal ended
  process.exitCode = code ?? 128 + (signal === null ? 0 : constants.signals[signal])
  return true
}
