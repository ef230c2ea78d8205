import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

/** Every child the bench started and has not stopped yet; killed on any way out of the process. */
const running = new Set<Child>()
/** Children that exited while they were supposed to be serving: the bench is then a crash, not a result. */
export const crashes: string[] = []

const STDERR_TAIL = 4096

export class Child {
  readonly name: string
  readonly process: ChildProcess
  private stderrTail = ''
  private stopping = false

  constructor(name: string, args: string[], env: NodeJS.ProcessEnv) {
    this.name = name
    this.process = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(this)
    this.process.stderr?.setEncoding('utf8')
    this.process.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL)
    })
    this.process.once('exit', (code, signal) => {
      running.delete(this)
      if (!this.stopping) crashes.push(`${this.name} exited (${signal ?? `code ${code}`})${this.tail()}`)
    })
  }

  get pid(): number {
    const pid = this.process.pid
    if (pid === undefined) throw new Error(`${this.name} did not start`)
    return pid
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null
  }

  tail(): string {
    const text = this.stderrTail.trim()
    return text === '' ? '' : `\n--- ${this.name} stderr (tail) ---\n${text}`
  }

  /** The first stdout line that parses as a JSON object, e.g. the simulator's `{"simulator":url}`. */
  async firstJsonLine(timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const stdout = this.process.stdout
    if (stdout === null) throw new Error(`${this.name} has no stdout`)
    const lines = createInterface({ input: stdout })
    const timer = setTimeout(() => lines.close(), timeoutMs)
    try {
      for await (const line of lines) {
        try {
          const parsed: unknown = JSON.parse(line)
          if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>
        } catch {
          // not the announcement line
        }
      }
    } finally {
      clearTimeout(timer)
      // keep draining so a chatty child never blocks on a full pipe
      stdout.resume()
    }
    throw new Error(`${this.name} printed no JSON line within ${timeoutMs} ms${this.tail()}`)
  }

  /** SIGTERM, then SIGKILL if it has not gone after a grace period. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true
    if (this.exited) return
    const gone = once(this.process, 'exit')
    this.process.kill('SIGTERM')
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs)
    await gone
    clearTimeout(timer)
  }

  killNow(): void {
    this.stopping = true
    if (!this.exited) this.process.kill('SIGKILL')
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()))
}

let installed = false

/**
 * Children must not outlive the bench: on a normal end they are stopped politely; on Ctrl-C, SIGTERM or an
 * uncaught error they are killed, and the synchronous `exit` hook catches whatever is left. `cleanup` runs
 * after the kill on a signal (bounded to 5 s), for what is not a process, such as a database schema.
 */
export function killChildrenOnExit(cleanup?: () => Promise<void>): void {
  if (installed) return
  installed = true
  process.once('exit', () => {
    for (const child of running) child.killNow()
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the bench's children\n`)
      for (const child of running) child.killNow()
      if (cleanup === undefined) process.exit(130)
      // e.g. dropping a database schema: given a few seconds, never allowed to keep the bench alive
      const bounded = Promise.race([cleanup().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))])
      void bounded.then(() => process.exit(130))
    })
  }
}

/**
 * A bench's entry point: runs `main`, reports a throw with any child's crash, always stops the children and
 * runs `cleanup` (its failure reported, never hiding the result), then exits with main's code (1 on a throw).
 */
export async function runBench(main: () => Promise<number>, cleanup?: () => Promise<void>): Promise<never> {
  let code = 1
  try {
    code = await main()
  } catch (err) {
    process.stderr.write(`\nbench failed: ${(err as Error).stack ?? String(err)}\n`)
    if (crashes.length > 0) process.stderr.write(`${crashes.join('\n')}\n`)
  } finally {
    await stopAll()
    await cleanup?.().catch((err: unknown) => process.stderr.write(`bench cleanup failed: ${String(err)}\n`))
  }
  process.exit(code)
}

