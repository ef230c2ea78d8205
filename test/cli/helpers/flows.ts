import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { runCli, spawnCli, type CliResult } from './cli.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, buildFlowRunner, type FlowRunner, type FlowRunnerOptions } from '../../helpers/flowrunner.js'
import { tempDir, type Teardown } from '../../helpers/gateway.js'

/** Variables that would point the CLI at another server, login or state directory. */
const SCRUBBED = /^(EVERCYCLE_|FLOWRUNNER_|XDG_STATE_HOME$|PORT$|TOKEN_FILE$)/

export interface FlowsServer {
  fr: FlowRunner
  url: string
}

/** The whole app (FlowRunner included) on a loopback port, PGlite, the first admin logged in; closed in teardown. */
export async function flowsServer(t: Teardown, options: Partial<FlowRunnerOptions> = {}): Promise<FlowsServer> {
  const fr = await buildFlowRunner(t, { backend: 'pglite', ...options })
  await fr.app.listen({ port: 0, host: '127.0.0.1' })
  return { fr, url: `http://127.0.0.1:${(fr.app.server.address() as AddressInfo).port}` }
}

export interface FlowsCli {
  env: Record<string, string>
  stateDir: string
  sessionFile: string
  run(args: string[], stdin?: string): Promise<CliResult>
}

/** A CLI with its own state directory, pointed at `url` through FLOWRUNNER_URL. */
export async function flowsCli(t: Teardown, url: string, extra: Record<string, string> = {}): Promise<FlowsCli> {
  const dir = await tempDir(t, 'flows-cli-')
  const stateDir = path.join(dir, 'state')
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !SCRUBBED.test(key)) env[key] = value
  Object.assign(env, { EVERCYCLE_STATE_DIR: stateDir, FLOWRUNNER_URL: url, NO_COLOR: '1', ...extra })
  const ws = { env }
  return { env, stateDir, sessionFile: path.join(stateDir, 'flowrunner-sessions.json'), run: (args, stdin) => runCli(ws, ['flows', ...args], stdin) }
}

/** `flows login` as the admin, the password piped in. */
export async function loginAdmin(cli: FlowsCli): Promise<CliResult> {
  const res = await runCli({ env: cli.env }, ['flows', 'login', '--email', ADMIN_EMAIL], `${ADMIN_PASSWORD}\n`)
  if (res.code !== 0) throw new Error(`login failed: ${res.stderr}`)
  return res
}

export interface SavedSession {
  token: string
  expiresAt: number
  obtainedAt: number
  accountId: string
  email: string
}

export async function savedSessions(cli: FlowsCli): Promise<Record<string, SavedSession>> {
  return (JSON.parse(await readFile(cli.sessionFile, 'utf8')) as { sessions: Record<string, SavedSession> }).sessions
}

export { spawnCli }

/** The error the CLI printed on stderr (its last line: progress or file:line:column lines may come first). */
export function errorOf(stderr: string): { status: string; error: { code: string; message: string; details: unknown } } {
  const lines = stderr.trim().split('\n')
  return JSON.parse(lines.at(-1) ?? '{}') as { status: string; error: { code: string; message: string; details: unknown } }
}
