import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import type { Teardown } from './gateway.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/
/** How much of a child's output an error message quotes. */
const OUTPUT_TAIL = 16_384

/** Children started here and not yet gone: killed on any way out of the test process. */
const running = new Set<ChildProcess>()
let installed = false

function killRunning(): void {
  for (const child of running) child.kill('SIGKILL')
}

/**
 * A test that tap stops on timeout must not leave its servers behind (replicas holding a database, a Caddy
 * holding a port). bench/lib/children.ts does the same for the bench, but exits the process on a signal, which
 * would hide tap's timeout report; here the signal is sent again once the children are dead, so tap's own
 * handling (SIGALRM on timeout) goes on as before.
 */
function killChildrenOnExit(): void {
  if (installed) return
  installed = true
  process.once('exit', killRunning)
  for (const signal of ['SIGALRM', 'SIGHUP', 'SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killRunning()
      process.kill(process.pid, signal)
    })
  }
}

/** A child process of the test: SIGKILLed at teardown if still running, and whenever the test process ends. */
export function spawnTracked(t: Teardown, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  killChildrenOnExit()
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  child.once('exit', () => running.delete(child))
  // drained unless a reader attaches: a child blocked on a full pipe would hang the test
  child.stderr?.resume()
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = once(child, 'exit')
      child.kill('SIGKILL')
      await gone
    }
  })
  return child
}

/** The real server, `node --import tsx app/server.ts`, with PATH and `env` as its whole environment. */
export function spawnServer(t: Teardown, env: NodeJS.ProcessEnv): ChildProcess {
  return spawnTracked(t, process.execPath, ['--import', 'tsx', path.join('app', 'server.ts')], { PATH: process.env.PATH ?? '', ...env })
}

/**
 * Resolves with the URL from the server's own "Server listening at" log line; rejects, quoting what it printed,
 * if it exits first. Both pipes are drained from here on, so a chatty server never blocks on a full pipe.
 */
export function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = ''
    let url: string | undefined
    const onData = (d: Buffer): void => {
      if (url !== undefined) return
      output = (output + d.toString('utf8')).slice(-OUTPUT_TAIL)
      url = LISTENING.exec(output)?.[1]
      if (url !== undefined) resolve(url)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code, signal) => {
      if (url === undefined) reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`))
    })
  })
}

export interface StartedServer {
  child: ChildProcess
  url: string
}

/** `spawnServer` and `listening` together: the server, once it listens. */
export async function startServer(t: Teardown, env: NodeJS.ProcessEnv): Promise<StartedServer> {
  const child = spawnServer(t, env)
  return { child, url: await listening(child) }
}

/** A started server whose output is kept from its first byte (log assertions, a failure's diagnosis). */
export interface RecordedServer extends StartedServer {
  output: () => string
}

/** `startServer`, keeping everything the process prints. */
export async function startRecordedServer(t: Teardown, env: NodeJS.ProcessEnv): Promise<RecordedServer> {
  const child = spawnServer(t, env)
  let output = ''
  const keep = (d: Buffer): void => {
    output += d.toString('utf8')
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, url: await listening(child), output: () => output }
}
