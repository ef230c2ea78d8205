import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type tap from 'tap'
import { formatAuthProperties } from '../../../src/evercycle/auth-properties.js'
import { tokenSetFrom } from '../../../src/evercycle/tokens.js'
import type { EvercycleSimulator } from '../../../dev/simulator/simulator.js'
import { tempDir, type Teardown } from '../../helpers/gateway.js'

type Tap = Parameters<Parameters<typeof tap.test>[0]>[0]

export const REPO = path.resolve(import.meta.dirname, '..', '..', '..')
/** Resolved here, so a CLI child started in another working directory still finds it. */
const TSX = import.meta.resolve('tsx')

/** The newest modification time of the TypeScript under these folders (what the CLI is built from). */
function newestSource(dirs: string[]): number {
  let newest = 0
  for (const dir of dirs) {
    for (const entry of readdirSync(path.join(REPO, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs)
    }
  }
  return newest
}

/**
 * How a CLI child runs: the build (dist/) when it is newer than every source it comes from, as in CI, where
 * `npm ci` has just built it; else the sources through tsx, so an edit is tested without a build. The build
 * starts in half the time, and these tests start the CLI a few hundred times.
 */
const ARGV: readonly string[] = (() => {
  const built = path.join(REPO, 'dist', 'src', 'cli', 'main.js')
  let builtAt = 0
  try {
    builtAt = statSync(built).mtimeMs
  } catch {
    // not built
  }
  return builtAt > newestSource(['src', 'endpoints']) ? [built] : ['--import', TSX, path.join(REPO, 'src', 'cli', 'main.ts')]
})()

/** Variables a developer's shell might carry that would point the CLI elsewhere. */
const SCRUBBED = [
  'EVERCYCLE_BASE_URL',
  'EVERCYCLE_CONFIG_DIR',
  'TOKEN_FILE',
  'EVERCYCLE_USERNAME',
  'EVERCYCLE_PASSWORD',
  'EVERCYCLE_GATEWAY_URL',
  'EVERCYCLE_GATEWAY_API_KEY',
  'EVERCYCLE_HISTORY_FILE',
  'EVERCYCLE_HISTORY_MAX_BYTES',
  'EVERCYCLE_STATE_DIR',
  'XDG_STATE_HOME'
]

export interface Workspace {
  dir: string
  configDir: string
  tokenFile: string
  historyFile: string
  /** EVERCYCLE_STATE_DIR: a test never writes to the real per-user state directory. */
  stateDir: string
  env: Record<string, string>
}

/**
 * A temp dir with config/, auth.properties, the history file and the state directory (not made: the CLI makes
 * it), and the env that points the CLI at them.
 */
export async function workspace(t: Teardown, sim: EvercycleSimulator | undefined, extra: Record<string, string> = {}): Promise<Workspace> {
  const dir = await tempDir(t, 'cli-')
  const configDir = path.join(dir, 'config')
  await mkdir(configDir)
  const tokenFile = path.join(dir, 'auth.properties')
  const historyFile = path.join(dir, 'history.jsonl')
  const stateDir = path.join(dir, 'state')
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !SCRUBBED.includes(key)) env[key] = value
  }
  Object.assign(env, {
    EVERCYCLE_BASE_URL: sim?.url ?? 'http://127.0.0.1:9',
    EVERCYCLE_CONFIG_DIR: configDir,
    TOKEN_FILE: tokenFile,
    EVERCYCLE_HISTORY_FILE: historyFile,
    EVERCYCLE_STATE_DIR: stateDir,
    UPSTREAM_TIMEOUT_MS: '5000',
    NO_COLOR: '1',
    ...extra
  })
  return { dir, configDir, tokenFile, historyFile, stateDir, env }
}

/** A workspace whose auth.properties already holds tokens the simulator issued, as `evercycle auth` leaves it. */
export async function signedIn(t: Teardown, sim: EvercycleSimulator, extra: Record<string, string> = {}): Promise<Workspace> {
  const ws = await workspace(t, sim, extra)
  await writeFile(ws.tokenFile, formatAuthProperties(tokenSetFrom(sim.issueTokens())), { mode: 0o600 })
  return ws
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `evercycle <args>` to completion as a child process (in the repository unless `cwd`), optionally feeding stdin. */
export async function runCli(ws: Pick<Workspace, 'env'>, args: string[], input?: string, cwd = REPO): Promise<CliResult> {
  const child = spawnCli(ws, args, cwd)
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => stdout.push(c))
  child.stderr.on('data', (c: Buffer) => stderr.push(c))
  child.stdin.end(input ?? '')
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }
}

export function spawnCli(ws: Pick<Workspace, 'env'>, args: string[], cwd = REPO): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...ARGV, ...args], { cwd, env: ws.env, stdio: 'pipe' })
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]|\u001b[()][A-Za-z0-9]/g

/**
 * A CLI child driven through its prompts: wait until a prompt has rendered (matched on the output without
 * terminal escapes), then type. Waits on output events, never on timers.
 */
export class PromptDriver {
  private output = ''
  private cursor = 0
  private waiter: { pattern: RegExp; resolve: () => void } | undefined
  readonly exited: Promise<number | null>
  stderr = ''

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (c: Buffer) => {
      this.output += c.toString('utf8').replace(ANSI, '')
      this.check()
    })
    child.stderr.on('data', (c: Buffer) => {
      this.stderr += c.toString('utf8')
    })
    this.exited = once(child, 'close').then(([code]) => code as number | null)
  }

  get text(): string {
    return this.output
  }

  /** Resolves when `pattern` appears in output that arrived after the previous match. */
  waitFor(pattern: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiter = { pattern, resolve }
      void this.exited.then(() => {
        if (this.waiter?.pattern === pattern) reject(new Error(`CLI exited before ${pattern}:\n${this.output}\n${this.stderr}`))
      })
      this.check()
    })
  }

  /** Waits for the prompt, types, and waits for the prompt to show as answered (inquirer marks it ✔). */
  async answer(pattern: RegExp, keys: string): Promise<void> {
    await this.waitFor(pattern)
    this.child.stdin.write(keys)
    await this.waitFor(/✔/)
  }

  private check(): void {
    if (this.waiter === undefined) return
    const rest = this.output.slice(this.cursor)
    const m = this.waiter.pattern.exec(rest)
    if (m === null) return
    this.cursor += m.index + m[0].length
    const { resolve } = this.waiter
    this.waiter = undefined
    resolve()
  }
}

export const KEY = { down: '\u001b[B', up: '\u001b[A', enter: '\r' }

export function parseJson<T = unknown>(text: string): T {
  return JSON.parse(text) as T
}

export interface Envelope {
  status: string
  data: Record<string, unknown>
}

export interface ErrorReply {
  status: string
  message: string
  error: { code: string; message: string; details: unknown }
}

/**
 * `call get-asset-id --param id=9999` (through `via`, e.g. `--gateway <url>`) fails the same way in both modes:
 * exit 1, nothing on stdout, Evercycle's 404 in the gateway's error shape on stderr.
 */
export async function assertMissingAsset(t: Tap, ws: Pick<Workspace, 'env'>, via: string[] = []): Promise<void> {
  const missing = await runCli(ws, [...via, 'call', 'get-asset-id', '--param', 'id=9999'])
  t.equal(missing.code, 1)
  t.equal(missing.stdout, '')
  t.same(parseJson<ErrorReply>(missing.stderr), {
    status: 'error',
    message: 'Evercycle answered 404',
    error: { code: 'upstream_error', message: 'Evercycle answered 404', details: { upstream_status: 404, body: { message: 'Asset 9999 not found' } } }
  })
}
