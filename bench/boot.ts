/**
 * How heavy the server is to start: `npm start` on a fresh DATA_DIR (the embedded PGlite database), again on the
 * directory that boot left (a restart), and on PostgreSQL when the test database answers. Each row: the time
 * from spawning the process to `/api/health` answering 200, and the resident set size after idling.
 *
 *   npm run bench:boot            (BOOT_IDLE_MS, default 5000: the idle time before RSS is read)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { Child, killChildrenOnExit, runBench } from './lib/children.js'
import { freePort, waitFor200 } from './lib/http.js'
import { fmtMb } from './lib/report.js'
import { rssOf } from './lib/rss.js'
import { serverNodeFlags } from './lib/server-flags.js'

const IDLE_MS = Number(process.env.BOOT_IDLE_MS ?? 5000)
const DATABASE_URL = process.env.FLOWRUNNER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const MB = 1024 * 1024
/** The targets for the embedded default on this machine. */
const GOAL_FIRST_BOOT_MS = 3000
const GOAL_IDLE_RSS = 250 * MB

interface Boot {
  name: string
  healthyMs: number
  idleRss: number
}

async function boot(name: string, dataDir: string, extraEnv: Record<string, string> = {}): Promise<Boot> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    EVERCYCLE_CONFIG_DIR: path.join(dataDir, 'config'),
    TOKEN_FILE: path.join(dataDir, 'auth.properties'),
    EVERCYCLE_BASE_URL: 'http://127.0.0.1:9',
    SESSION_SECRET: 'boot-bench-session-secret-0123456789abcdef',
    FLOWRUNNER_JWT_SECRET: 'boot-bench-jwt-secret-0123456789abcdef0123',
    FLOWRUNNER_SECRETS_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    FLOWRUNNER_ADMIN_EMAIL: 'admin@example.com',
    FLOWRUNNER_ADMIN_PASSWORD: 'boot-bench-admin-password',
    ...extraEnv
  }
  const started = Date.now()
  const child = new Child(name, [...serverNodeFlags(), 'dist/app/server.js'], env)
  await waitFor200(`http://127.0.0.1:${port}/api/health`, 120_000, () => child.exited)
  const healthyMs = Date.now() - started
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const idleRss = rssOf(child.pid) ?? Number.NaN
  await child.stop(10_000)
  return { name, healthyMs, idleRss }
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function main(): Promise<number> {
  killChildrenOnExit()
  const dir = await mkdtemp(path.join(tmpdir(), 'boot-bench-'))
  const schema = `boot_bench_${process.pid}`
  const rows: Boot[] = []
  try {
    rows.push(await boot('PGlite, fresh DATA_DIR', path.join(dir, 'fresh')))
    rows.push(await boot('PGlite, restart', path.join(dir, 'fresh')))
    if (await postgresReachable()) {
      const url = new URL(DATABASE_URL)
      url.searchParams.set('options', `-c search_path=${schema}`)
      const admin = new pg.Client({ connectionString: DATABASE_URL })
      await admin.connect()
      await admin.query(`CREATE SCHEMA ${schema}`)
      await admin.end()
      rows.push(
        await boot('PostgreSQL', path.join(dir, 'pg'), { DATABASE_URL: url.href, FLOWRUNNER_QUEUE_SCHEMA: `${schema}_q` })
      )
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
    await admin
      .connect()
      .then(() => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_q CASCADE`))
      .catch(() => undefined)
      .finally(() => admin.end().catch(() => undefined))
  }
  process.stdout.write(`\nboot (idle ${IDLE_MS} ms before RSS)\n`)
  for (const r of rows) process.stdout.write(`  ${r.name.padEnd(24)} healthy after ${String(r.healthyMs).padStart(6)} ms   idle RSS ${fmtMb(r.idleRss)}\n`)
  const first = rows[0]
  const pglite = rows.filter((r) => r.name.startsWith('PGlite'))
  const goals = [
    { name: `first boot healthy < ${GOAL_FIRST_BOOT_MS} ms`, ok: first !== undefined && first.healthyMs < GOAL_FIRST_BOOT_MS },
    { name: `idle RSS < ${fmtMb(GOAL_IDLE_RSS)} on PGlite`, ok: pglite.every((r) => r.idleRss < GOAL_IDLE_RSS) }
  ]
  for (const g of goals) process.stdout.write(`  ${g.ok ? 'PASS' : 'FAIL'}  ${g.name}\n`)
  return 0
}

await runBench(main)
