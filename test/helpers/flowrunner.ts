import { randomBytes } from 'node:crypto'
import path from 'node:path'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import tap from 'tap'
import app from '../../app/app.js'
import { serverOptions } from '../../app/server-options.js'
import { load } from '../../src/config.js'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import type { Driver } from '../../src/store/driver.js'
import { openPgliteDriver } from '../../src/store/pglite-driver.js'
import { openPostgresDriver } from '../../src/store/postgres-driver.js'
import { tempDir, type GatewayOptions, type Teardown } from './gateway.js'
import { seedPglite } from './pglite-template.js'

/** A tap subtest, as the callbacks of `t.test` receive it. */
export type Tap = Parameters<Parameters<typeof tap.test>[0]>[0]

export type Backend = 'pglite' | 'postgres'
export const BACKENDS: readonly Backend[] = ['pglite', 'postgres']

/** The machine's PostgreSQL (trust auth); every test works in a schema of its own. */
export const TEST_DATABASE_URL = process.env.FLOWRUNNER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export const ADMIN_EMAIL = 'admin@example.com'
export const ADMIN_PASSWORD = 'admin-password-1'
/** Fixed so tests can mint their own tokens (expired, forged) with the server's secret. */
export const JWT_SECRET = 'flowrunner-test-jwt-secret-0123456789abcdef'
export const SECRETS_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'

/** The test database's URL as it may be shown: without its password. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.href
  } catch {
    return '(FLOWRUNNER_TEST_DATABASE_URL is not a URL)'
  }
}

let reachable: Promise<void> | undefined

/**
 * Whether the test database answers, asked once per test process: without PostgreSQL every PostgreSQL-backed
 * test fails with this one message (what to start or set) rather than a bare ECONNREFUSED from deep inside.
 */
export function requireTestDatabase(): Promise<void> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 10_000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const why = e.code ?? e.message
      throw new Error(
        `The PostgreSQL-backed tests need a database at ${shownUrl(TEST_DATABASE_URL)}, which failed (${why}). ` +
          'Start PostgreSQL on 127.0.0.1:5432 with trust auth for the user postgres and create the database "test" ' +
          '(createdb -h 127.0.0.1 -U postgres test), or set FLOWRUNNER_TEST_DATABASE_URL to one you have: see docs/testing.md.'
      )
    } finally {
      await client.end().catch(() => undefined)
    }
  })()
  return reachable
}

/** Runs `fn` once per backend, as two subtests named after it. */
export function eachBackend(name: string, fn: (t: Tap, backend: Backend) => Promise<void>): void {
  for (const backend of BACKENDS) void tap.test(`${name} [${backend}]`, (t) => fn(t, backend))
}

/**
 * A new empty schema in the test database and a DATABASE_URL whose connections use it (search_path in the
 * startup options). Dropped in teardown: register this before anything that opens connections to it, since
 * tap runs teardowns last-in first-out.
 */
export async function testSchema(t: Teardown): Promise<{ url: string; schema: string }> {
  await requireTestDatabase()
  const schema = `t_${randomBytes(8).toString('hex')}`
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await client.end()
  }
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await c.connect()
    try {
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      // the job queue's schema (pg-boss), named after the test's
      await c.query(`DROP SCHEMA IF EXISTS ${schema}_q CASCADE`)
    } finally {
      await c.end()
    }
  })
  const url = new URL(TEST_DATABASE_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return { url: url.href, schema }
}

/** A bare driver on a fresh database (PGlite dir or Postgres schema), not migrated; closed in teardown. */
export async function openTestDriver(t: Teardown, backend: Backend): Promise<Driver> {
  let driver: Driver
  if (backend === 'postgres') {
    const { url } = await testSchema(t)
    driver = await openPostgresDriver({ connectionString: url, poolSize: 4 })
  } else {
    const dir = await tempDir(t, 'fr-db-')
    await seedPglite(dir, { migrated: false })
    driver = await openPgliteDriver(path.join(dir, 'pglite'))
  }
  t.teardown(() => driver.close())
  return driver
}

/** The env that puts FlowRunner on a backend: a Postgres schema of its own, or PGlite under the temp dir. */
export async function backendEnv(t: Teardown, backend: Backend): Promise<Record<string, string>> {
  if (backend === 'pglite') return {}
  const { url, schema } = await testSchema(t)
  return { DATABASE_URL: url, DATABASE_POOL_SIZE: '4', FLOWRUNNER_QUEUE_SCHEMA: `${schema}_q` }
}

export interface RequestOptions {
  token?: string
  body?: unknown
  headers?: Record<string, string>
}

export interface TestUser {
  id: string
  email: string
  password: string
  token: string
}

export interface AppOptions extends Omit<GatewayOptions, 'credentials'> {
  env?: Record<string, string>
}

/**
 * The real app, as buildGateway builds it, except that it is registered without encapsulation so tests can
 * reach its decorators (`app.db`, `app.sessions`...). Closed in teardown.
 */
export async function buildApp(t: Teardown, options: AppOptions = {}): Promise<{ app: FastifyInstance; dir: string }> {
  const dir = options.dir ?? (await tempDir(t))
  const config = load({
    EVERCYCLE_BASE_URL: options.sim?.url ?? 'http://127.0.0.1:9',
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    EVERCYCLE_USERNAME: DEMO_USERNAME,
    EVERCYCLE_PASSWORD: DEMO_PASSWORD,
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: options.logs === undefined ? 'silent' : 'trace',
    GATEWAY_AUTH: 'none',
    UPSTREAM_TIMEOUT_MS: '5000',
    // PGlite runs in WASM on the event loop: on a machine loaded by parallel test files its first queries can
    // stall the loop past the shedding limit, and these tests are not about load shedding
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...options.env
  })
  if (config.flowRunner.databaseUrl === undefined) await seedPglite(config.flowRunner.dataDir)
  const opts = serverOptions(config)
  // a loaded machine (tap runs files in parallel) can stretch a boot past Fastify's 10 s plugin default
  const withTimeout = { ...opts, pluginTimeout: 60_000 }
  const fastify = Fastify(options.logs === undefined ? withTimeout : { ...withTimeout, logger: { ...(opts.logger as object), stream: options.logs } })
  try {
    await fastify.register(fp(app), { config })
    await fastify.ready()
  } catch (err) {
    // a failed boot must still release what the plugins that did load opened (database, pool)
    await fastify.close().catch(() => undefined)
    throw err
  }
  t.teardown(() => fastify.close())
  return { app: fastify, dir }
}

export interface FlowRunner {
  app: FastifyInstance
  dir: string
  backend: Backend
  admin: TestUser
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, options?: RequestOptions): Promise<LightMyRequestResponse>
  login(email: string, password: string): Promise<string>
  /** A new `user` account (created by the admin) with a token. */
  createUser(label?: string): Promise<TestUser>
  /** Raw SQL against the app's own database, for asserting on stored rows. */
  sql<R extends object = Record<string, unknown>>(query: string, params?: unknown[]): Promise<R[]>
}

export interface FlowRunnerOptions extends AppOptions {
  backend: Backend
}

/** The whole app on one backend, with the first admin logged in. Everything is released in teardown. */
export async function buildFlowRunner(t: Teardown, options: FlowRunnerOptions): Promise<FlowRunner> {
  const env: Record<string, string> = {
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY,
    ...(await backendEnv(t, options.backend)),
    ...options.env
  }
  const built = await buildApp(t, { ...options, env })
  const { app } = built

  const request: FlowRunner['request'] = (method, url, opts = {}) =>
    app.inject({
      method,
      url,
      headers: { ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }), ...opts.headers },
      ...(opts.body === undefined ? {} : { payload: opts.body as object })
    })

  const login = async (email: string, password: string): Promise<string> => {
    const res = await request('POST', '/api/v1/auth/login', { body: { username: email, password } })
    if (res.statusCode !== 200) throw new Error(`login as ${email} failed: ${res.statusCode} ${res.body}`)
    return (res.json() as { token: string }).token
  }

  const adminToken = await login(ADMIN_EMAIL, ADMIN_PASSWORD)
  const adminId = (JSON.parse(Buffer.from(adminToken.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub
  const admin: TestUser = { id: adminId, email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token: adminToken }

  let users = 0
  const createUser = async (label = 'user'): Promise<TestUser> => {
    users++
    const email = `${label}${users}@example.com`
    const password = `${label}-password-${users}`
    const res = await request('POST', '/api/v1/accounts', { token: admin.token, body: { name: `${label} ${users}`, email, password, role: 'user' } })
    if (res.statusCode !== 201) throw new Error(`creating ${email} failed: ${res.statusCode} ${res.body}`)
    const id = (res.json() as { id: string }).id
    return { id, email, password, token: await login(email, password) }
  }

  const sql: FlowRunner['sql'] = async <R extends object>(query: string, params: unknown[] = []) => (await app.db.query<R>(query, params)).rows

  return { ...built, backend: options.backend, admin, request, login, createUser, sql }
}

/** A minimal valid definition: `start` calls an API, then `end` posts to a webhook. */
export function simpleDefinition(name = 'My Flow', version = '1.0.0'): string {
  return `metadata:
  name: "${name}"
  description: "A simple flow"
  version: "${version}"

nodes:
  start:
    type: "http.request"
    params:
      url: "https://api.example.com/data"
      method: "GET"
    next:
      default: "end"

  end:
    type: "webhook"
    params:
      url: "https://webhook.example.com/callback"
      method: "POST"
`
}
