import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Child } from './children.js'
import { freePort, getText, postJson, waitFor200 } from './http.js'
import { serverNodeFlags } from './server-flags.js'

export const SIM_USERNAME = 'demo@evercycle.test'
export const SIM_PASSWORD = 'demo-password'

/**
 * Client authentication for the gateway under load. Today the gateway runs with GATEWAY_AUTH=none; once it
 * requires a key, run with BENCH_GATEWAY_AUTH=session (or whatever mode is current). The key is always
 * configured and always sent, so switching is that one variable.
 */
export const BENCH_API_KEY = 'bench-key'
export const gatewayAuthMode = process.env.BENCH_GATEWAY_AUTH ?? 'none'
export const gatewayClientHeaders: Record<string, string> = { 'x-api-key': BENCH_API_KEY }

// compiled layout: dist/bench/lib/targets.js beside dist/src/
const here = path.dirname(fileURLToPath(import.meta.url))
// BENCH_GATEWAY_SERVER measures another build (a candidate fix built elsewhere) against the same yardsticks
const SERVER_JS = path.resolve(process.env.BENCH_GATEWAY_SERVER ?? path.join(here, '..', '..', 'app', 'server.js'))
const SIMULATOR_JS = path.resolve(here, '..', '..', 'dev', 'simulator', 'main.js')
const PROXY_JS = path.resolve(here, 'minimal-proxy.js')

/** Only what a Node process needs from our environment: a developer's own DATABASE_URL etc. must not leak in. */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ']) {
    const value = process.env[key]
    if (value !== undefined) env[key] = value
  }
  return env
}

function announcedUrl(line: Record<string, unknown>, key: string, name: string): string {
  const url = line[key]
  if (typeof url !== 'string') throw new Error(`${name} announced no "${key}" URL: ${JSON.stringify(line)}`)
  return url
}

export interface Simulator {
  child: Child
  url: string
  /** The two token headers a direct call needs, from a sign-in made by the bench itself. */
  tokenHeaders: Record<string, string>
}

/** `extraArgs`: more of the simulator's flags, e.g. `['--rate-limit', '100']`. */
export async function startSimulator(latencyMs: number, extraArgs: string[] = []): Promise<Simulator> {
  const port = await freePort()
  // a one-entry call log: the bench reads counts and per-second arrivals (exact whatever the log keeps), and a
  // long log costs the simulator time under load
  const args = [SIMULATOR_JS, '--port', String(port), '--latency', String(latencyMs), '--max-logged-calls', '1', ...extraArgs]
  const child = new Child(`simulator (${latencyMs} ms)`, args, baseEnv())
  const url = announcedUrl(await child.firstJsonLine(), 'simulator', child.name)
  const res = await postJson(`${url}/v1/auth/signin`, { username: SIM_USERNAME, password: SIM_PASSWORD })
  if (res.status !== 200) throw new Error(`simulator sign-in answered ${res.status}: ${res.body}`)
  const result = (JSON.parse(res.body) as { AuthenticationResult?: { AccessToken?: string; IdToken?: string } }).AuthenticationResult
  if (result?.AccessToken === undefined || result.IdToken === undefined) throw new Error('simulator sign-in without tokens')
  return { child, url, tokenHeaders: { 'access-token': result.AccessToken, authorization: result.IdToken } }
}

export interface Proxy {
  child: Child
  url: string
}

export async function startMinimalProxy(upstream: string): Promise<Proxy> {
  const port = await freePort()
  const child = new Child('minimal proxy', [...serverNodeFlags(), PROXY_JS, '--upstream', upstream, '--port', String(port)], baseEnv())
  const url = announcedUrl(await child.firstJsonLine(), 'proxy', child.name)
  return { child, url }
}

export interface Gateway {
  child: Child
  url: string
  /** Removes the temp config dir, token file and data dir (after the child is stopped). */
  cleanup: () => Promise<void>
}

/** Temp dirs not yet removed; Ctrl-C skips the orderly cleanup, so the exit hook removes what is left. */
const tempDirs = new Set<string>()
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

/** `serverJs`: another build's dist/app/server.js (default: BENCH_GATEWAY_SERVER, else this tree's). */
/** `extraEnv`: more settings for the gateway (e.g. UPSTREAM_RATE_LIMIT), applied last. */
export async function startGateway(upstream: string, serverJs = SERVER_JS, extraEnv: Record<string, string> = {}): Promise<Gateway> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evercycle-bench-'))
  tempDirs.add(dir)
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    HOST: '127.0.0.1',
    PORT: String(port),
    EVERCYCLE_BASE_URL: upstream,
    EVERCYCLE_USERNAME: SIM_USERNAME,
    EVERCYCLE_PASSWORD: SIM_PASSWORD,
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    TOKEN_FILE: path.join(dir, 'auth.properties'),
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'warn',
    GATEWAY_AUTH: gatewayAuthMode,
    GATEWAY_API_KEYS: BENCH_API_KEY,
    ...extraEnv
  }
  // e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it, or V8 heap flags to compare
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  const child = new Child('gateway', [...serverNodeFlags(), ...nodeArgs, serverJs], env)
  const url = `http://127.0.0.1:${port}`
  const cleanup = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true })
    tempDirs.delete(dir)
  }
  try {
    await waitFor200(`${url}/api/health`, 60_000, () => child.exited)
    // sign-in happens here, not inside the first measured requests
    await waitFor200(`${url}/api/ready`, 15_000, () => child.exited, gatewayClientHeaders)
  } catch (err) {
    throw new Error(`${(err as Error).message}${child.tail()}`)
  }
  return { child, url, cleanup }
}

/** The simulator's counters (`GET /__sim/calls`). */
export async function simulatorCounts(simUrl: string): Promise<{ apiCalls: number; rateLimited: number; unauthorized: number }> {
  const res = await getText(`${simUrl}/__sim/calls`)
  return (JSON.parse(res.body) as { counts: { apiCalls: number; rateLimited: number; unauthorized: number } }).counts
}

/** API calls that arrived at the simulator per whole second of its clock (`GET /__sim/per-second`). */
export async function simulatorPerSecond(simUrl: string): Promise<Map<number, number>> {
  const res = await getText(`${simUrl}/__sim/per-second`)
  const body = JSON.parse(res.body) as { perSecond: Record<string, number> }
  return new Map(Object.entries(body.perSecond).map(([second, n]) => [Number(second), n]))
}
