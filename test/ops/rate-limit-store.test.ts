import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { RateLimitCounters, sharedRateLimitStore } from '../../src/store/rate-limit-counters.js'
import { migrate } from '../../src/store/migrate.js'
import { buildApp, JWT_SECRET, openTestDriver, SECRETS_KEY, testSchema } from '../helpers/flowrunner.js'
import { startSimulator, type Teardown } from '../helpers/gateway.js'
import type { EvercycleSimulator } from '../../dev/simulator/simulator.js'

const WRONG = { username: 'nobody@example.com', password: 'not-the-password' }

/** Two gateway replicas on one fresh PostgreSQL schema, as a cluster runs them. */
async function twoReplicas(t: Teardown, sim: EvercycleSimulator, limit: number): Promise<[FastifyInstance, FastifyInstance]> {
  const { url, schema } = await testSchema(t)
  const env = {
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: '4',
    FLOWRUNNER_QUEUE_SCHEMA: `${schema}_q`,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY,
    AUTH_RATE_LIMIT: String(limit),
    AUTH_RATE_WINDOW_MS: '60000'
  }
  const a = await buildApp(t, { sim, env })
  const b = await buildApp(t, { sim, env })
  return [a.app, b.app]
}

const signIn = (app: FastifyInstance): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/api/auth', payload: WRONG })

t.test('POST /api/auth: the limit holds across two replicas sharing PostgreSQL', async (t) => {
  const sim = await startSimulator(t)
  const [a, b] = await twoReplicas(t, sim, 3)

  const first = await signIn(a)
  t.equal(first.statusCode, 401, 'wrong credentials still reach Evercycle')
  t.equal(first.headers['x-ratelimit-remaining'], '2')
  t.equal((await signIn(a)).headers['x-ratelimit-remaining'], '1')
  const third = await signIn(b)
  t.equal(third.statusCode, 401)
  t.equal(third.headers['x-ratelimit-remaining'], '0', 'replica B counts on from A')

  const refused = await signIn(b)
  t.equal(refused.statusCode, 429)
  t.match(refused.json(), { status: 'error', error: { code: 'rate_limited', details: { limit: 3 } } })
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After is what is left of the 60 s window (${retryAfter})`)
  t.equal(refused.json().error.details.retry_after_seconds, retryAfter)

  t.equal((await signIn(a)).statusCode, 429, 'and A refuses too')
  t.equal(sim.counts.failedSignIns, 3, 'refused attempts never reached Evercycle')
})

t.test('concurrent attempts on both replicas are counted exactly', async (t) => {
  const sim = await startSimulator(t)
  const [a, b] = await twoReplicas(t, sim, 10)
  const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => signIn(i % 2 === 0 ? a : b)))
  t.equal(replies.filter((r) => r.statusCode === 401).length, 10)
  t.equal(replies.filter((r) => r.statusCode === 429).length, 20)
})

t.test('counters: fixed window, TTL from the database, one key per route', async (t) => {
  const db = await openTestDriver(t, 'postgres')
  await migrate(db)
  const counters = new RateLimitCounters(() => db)

  const one = await counters.hit('k', 30_000)
  t.equal(one.hits, 1)
  t.ok(one.ttlMs > 25_000 && one.ttlMs <= 30_000, `a new window lasts the whole window (${one.ttlMs} ms)`)
  const two = await counters.hit('k', 30_000)
  t.equal(two.hits, 2)
  t.ok(two.ttlMs <= one.ttlMs, 'the window does not slide')

  await db.query("UPDATE rate_limit_counters SET expires_at = now() - interval '1 second' WHERE key = 'k'")
  const restarted = await counters.hit('k', 30_000)
  t.equal(restarted.hits, 1, 'an ended window restarts at the next hit')
  t.ok(restarted.ttlMs > 25_000)

  await db.query("UPDATE rate_limit_counters SET expires_at = now() - interval '1 second'")
  await counters.hit('other', 30_000)
  t.equal(await counters.sweep(), 1, 'the sweep deletes ended windows only')

  const Store = sharedRateLimitStore(counters)
  const root = new Store({})
  const login = root.child({ routeInfo: { method: 'POST', url: '/api/auth' } })
  const other = root.child({ routeInfo: { method: 'POST', url: '/api/other' } })
  const incr = (store: typeof root, key: string): Promise<number> =>
    new Promise((resolve, reject) => store.incr(key, (err, res) => (err === null && res !== undefined ? resolve(res.current) : reject(err)), 60_000))
  t.equal(await incr(login, '10.0.0.1'), 1)
  t.equal(await incr(login, '10.0.0.1'), 2)
  t.equal(await incr(other, '10.0.0.1'), 1, 'another route has its own counter')
  t.equal(await incr(login, '10.0.0.2'), 1, 'another client has its own counter')
})

t.test('the embedded database keeps the in-memory store', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildApp(t, { sim, env: { AUTH_RATE_LIMIT: '2' } })
  t.equal((await signIn(app)).statusCode, 401)
  t.equal((await signIn(app)).statusCode, 401)
  t.equal((await signIn(app)).statusCode, 429)
  const { rows } = await app.db.query('SELECT key FROM rate_limit_counters')
  t.same(rows, [], 'nothing was written to the database')
})
