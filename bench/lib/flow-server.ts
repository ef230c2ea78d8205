import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { Child } from './children.js'
import { Inspector } from './flow-inspector.js'
import { freePort, getText, waitFor200 } from './http.js'
import { restingRss } from './rss.js'
import { serverNodeFlags } from './server-flags.js'
import { baseEnv, SIM_PASSWORD, SIM_USERNAME } from './targets.js'

// compiled layout: dist/bench/lib/ beside dist/src/
const here = path.dirname(fileURLToPath(import.meta.url))
const SERVER_JS = path.resolve(process.env.BENCH_FLOWS_SERVER ?? path.join(here, '..', '..', 'app', 'server.js'))
const RECEIVER_JS = path.resolve(here, '..', '..', 'dev', 'demo', 'webhook-receiver.js')

export type Backend = 'pglite' | 'postgres'

export const ADMIN_EMAIL = 'bench-admin@flowrunner.test'
export const ADMIN_PASSWORD = 'bench-admin-password'

/**
 * A fresh PostgreSQL schema for the store and another for pg-boss, so a run never sees an earlier run's rows
 * (or another engineer's tests); `drop` removes both, and is safe to call twice.
 */
export interface PgSchemas {
  url: string
  schema: string
  queueSchema: string
  drop(): Promise<void>
}

export async function createSchemas(databaseUrl: string): Promise<PgSchemas> {
  const schema = `bench_${randomBytes(6).toString('hex')}`
  const queueSchema = `${schema}_q`
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await admin(`CREATE SCHEMA ${schema}`)
  let dropped = false
  const url = new URL(databaseUrl)
  // every pooled connection of the server then works in the bench's schema
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: url.href,
    schema,
    queueSchema,
    async drop() {
      if (dropped) return
      dropped = true
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${queueSchema} CASCADE`)
    }
  }
}

export interface Receiver {
  child: Child
  url: string
  port: number
  counts(): Promise<{ accepted: number; rejected: number }>
}

/** The demo's webhook receiver, as its own process, checking every signature. */
export async function startReceiver(secret: string): Promise<Receiver> {
  const port = await freePort()
  const child = new Child('webhook receiver', [RECEIVER_JS, '--port', String(port), '--quiet'], { ...baseEnv(), WEBHOOK_SECRET: secret })
  const line = await child.firstJsonLine()
  if (typeof line.receiver !== 'string') throw new Error(`webhook receiver announced no URL: ${JSON.stringify(line)}`)
  const url = line.receiver
  return {
    child,
    url,
    port,
    async counts() {
      const res = await getText(`${url}/__receiver/counts`)
      return JSON.parse(res.body) as { accepted: number; rejected: number }
    }
  }
}

export interface FlowServer {
  child: Child
  url: string
  /**
   * Runs `fn` with a session on the server's V8 inspector (bench only: forced GCs before RSS is read, heap
   * figures, snapshots). The session is closed again: an attached session slows the server by a third.
   */
  inspect<T>(fn: (inspector: Inspector) => Promise<T>): Promise<T>
  cleanup(): Promise<void>
}

export interface FlowServerOptions {
  backend: Backend
  concurrency: number
  simulatorUrl: string
  receiverPort: number
  /** For postgres: the schemas to use (created by the caller, dropped by it). */
  schemas?: PgSchemas
  /** More settings for the server (e.g. FLOWRUNNER_POLL_MS), applied last. */
  env?: Record<string, string>
}

/**
 * The server as production runs it, from the built dist in its own process: NODE_ENV=production with explicit
 * keys, LOG_LEVEL=warn (as the gateway bench), and only the simulator's and the receiver's ports opened to flow
 * HTTP nodes.
 */
/** Temp dirs not yet removed; a signal skips the orderly cleanup, so the exit hook removes what is left. */
const tempDirs = new Set<string>()
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

export async function startFlowServer(o: FlowServerOptions): Promise<FlowServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flowrunner-bench-'))
  tempDirs.add(dir)
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    EVERCYCLE_BASE_URL: o.simulatorUrl,
    EVERCYCLE_USERNAME: SIM_USERNAME,
    EVERCYCLE_PASSWORD: SIM_PASSWORD,
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    TOKEN_FILE: path.join(dir, 'auth.properties'),
    DATA_DIR: path.join(dir, 'data'),
    GATEWAY_AUTH: 'none',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    FLOWRUNNER_JWT_SECRET: randomBytes(32).toString('hex'),
    FLOWRUNNER_SECRETS_KEY: randomBytes(32).toString('hex'),
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_CONCURRENCY: String(o.concurrency),
    FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${new URL(o.simulatorUrl).port},127.0.0.1:${o.receiverPort}`
  }
  if (o.backend === 'postgres') {
    if (o.schemas === undefined) throw new Error('postgres backend needs schemas')
    env.DATABASE_URL = o.schemas.url
    env.FLOWRUNNER_QUEUE_SCHEMA = o.schemas.queueSchema
  }
  Object.assign(env, o.env)
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server under the load
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  // the inspector lets the bench force a full GC before it reads "RSS at rest" (and read the heap after it)
  const inspectPort = await freePort()
  const child = new Child(`server (${o.backend}, concurrency ${o.concurrency})`, [`--inspect=127.0.0.1:${inspectPort}`, ...serverNodeFlags(), ...nodeArgs, SERVER_JS], env)
  const url = `http://127.0.0.1:${port}`
  const cleanup = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true })
    tempDirs.delete(dir)
  }
  try {
    await waitFor200(`${url}/api/health`, 90_000, () => child.exited)
  } catch (err) {
    await child.stop()
    await cleanup()
    throw new Error(`${(err as Error).message}${child.tail()}`)
  }
  const inspect = async <T>(fn: (inspector: Inspector) => Promise<T>): Promise<T> => {
    const inspector = await Inspector.connect(inspectPort)
    try {
      return await fn(inspector)
    } finally {
      await inspector.close()
    }
  }
  return { child, url, cleanup, inspect }
}

/** The server's RSS at rest after full garbage collections forced through its inspector (let in-flight work settle first). */
export async function restingAfterGc(server: FlowServer): Promise<number | undefined> {
  await new Promise((r) => setTimeout(r, 500))
  await server.inspect(async (i) => {
    await i.collectGarbage()
    await i.collectGarbage()
  })
  return restingRss(server.child.pid)
}
