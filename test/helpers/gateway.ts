import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import app from '../../app/app.js'
import { serverOptions } from '../../app/server-options.js'
import { load } from '../../src/config.js'
import { DEMO_PASSWORD, DEMO_USERNAME, EvercycleSimulator, type SimulatorOptions } from '../../dev/simulator/simulator.js'
import { seedPglite } from './pglite-template.js'
import { testTmpRoot } from './tmp-root.js'

/** The subset of tap's Test these helpers use (teardown registration). */
export interface Teardown {
  teardown(fn: () => unknown): void
}

export async function startSimulator(t: Teardown, options: SimulatorOptions = {}): Promise<EvercycleSimulator> {
  const sim = new EvercycleSimulator(options)
  await sim.listen(0)
  t.teardown(() => sim.close())
  return sim
}

export async function tempDir(t: Teardown, prefix = 'gw-'): Promise<string> {
  const dir = await mkdtemp(path.join(testTmpRoot(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Captures every log line the app writes, for redaction assertions. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
    cb()
  }
  get text(): string {
    return this.lines.join('\n')
  }
}

export interface GatewayOptions {
  sim?: EvercycleSimulator
  env?: Record<string, string>
  /** Directory holding config/ and auth.properties; a fresh temp dir when omitted. */
  dir?: string
  logs?: LogCapture
  /** Whether the service credentials are configured (default true). */
  credentials?: boolean
}

export interface Gateway {
  app: FastifyInstance
  dir: string
  configDir: string
  tokenFile: string
}

/** Builds the real app against the simulator, with its own config dir and token file. Closed in teardown. */
export async function buildGateway(t: Teardown, options: GatewayOptions = {}): Promise<Gateway> {
  const dir = options.dir ?? (await tempDir(t))
  const configDir = path.join(dir, 'config')
  const env: Record<string, string> = {
    EVERCYCLE_BASE_URL: options.sim?.url ?? 'http://127.0.0.1:9',
    EVERCYCLE_CONFIG_DIR: configDir,
    // FlowRunner's embedded database and generated keys: per test, never the repo's ./data
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: options.logs === undefined ? 'silent' : 'trace',
    GATEWAY_AUTH: 'none',
    UPSTREAM_TIMEOUT_MS: '5000',
    ...(options.credentials === false ? {} : { EVERCYCLE_USERNAME: DEMO_USERNAME, EVERCYCLE_PASSWORD: DEMO_PASSWORD }),
    ...options.env
  }
  const config = load(env)
  // FlowRunner's embedded database starts from a ready-made cluster instead of running initdb per test
  if (config.flowRunner.databaseUrl === undefined) await seedPglite(config.flowRunner.dataDir)
  const opts = serverOptions(config)
  const fastify = Fastify(
    options.logs === undefined ? opts : { ...opts, logger: { ...(opts.logger as object), stream: options.logs } }
  )
  try {
    await fastify.register(app, { config })
    await fastify.ready()
  } catch (err) {
    // a failed boot still releases what the plugins that did load opened: an embedded database left open
    // keeps its timers (and the test process) alive, and would hold DATA_DIR against the next boot
    await fastify.close().catch(() => undefined)
    throw err
  }
  t.teardown(() => fastify.close())
  return { app: fastify, dir, configDir, tokenFile: config.evercycle.tokenFile }
}

/** The ways a refresh can fail that the gateway answers by signing in again: the simulator's mode, and what it answers. */
export const REFRESH_FAILURES = [
  ['refused', 'a 401'],
  ['error', 'a 500'],
  ['invalid', 'a 200 without tokens']
] as const
