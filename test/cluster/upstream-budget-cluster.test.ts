import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, SECRETS_KEY, testSchema } from '../helpers/flowrunner.js'
import { startSimulator, tempDir } from '../helpers/gateway.js'
import { startRecordedServer, type RecordedServer } from '../helpers/spawn-server.js'

/**
 * The upstream budget shared by three real server processes on one PostgreSQL schema (issue 22, "the budget
 * holds across three replicas"): the rate is one bucket and window for all of them, and a 429 answered to one
 * pauses all.
 */

const RATE = 10
const CALLS = 40

type Replica = RecordedServer

interface Reply {
  status: number
  code: string | undefined
  retryAfter: string | null
  ms: number
}


let calls = 0

/** A GET no other call shares (identical concurrent GETs are coalesced into one upstream call). */
async function getAll(base: string): Promise<Reply> {
  const started = Date.now()
  const res = await fetch(`${base}/api/get-all?call=${++calls}`)
  const body = (await res.json()) as { error?: { code?: string } }
  return { status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started }
}

t.test('three replicas on one PostgreSQL share one upstream budget', async (t) => {
  const db = await testSchema(t)
  const sim = await startSimulator(t)
  const dir = await tempDir(t, 'budget-cluster-')
  const sql = new pg.Client({ connectionString: db.url })
  await sql.connect()
  t.teardown(() => sql.end())
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '4',
    FLOWRUNNER_QUEUE_SCHEMA: `${db.schema}_q`,
    EVERCYCLE_BASE_URL: sim.url,
    EVERCYCLE_USERNAME: DEMO_USERNAME,
    EVERCYCLE_PASSWORD: DEMO_PASSWORD,
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    DATA_DIR: path.join(dir, 'data'),
    GATEWAY_AUTH: 'none',
    SESSION_SECRET: 'budget-cluster-session-secret-0123456789',
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY,
    FLOWRUNNER_WORKER: 'false',
    UPSTREAM_RATE_LIMIT: String(RATE),
    UPSTREAM_QUEUE_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info'
  }
  // get-all answers are cached (60 s): a write on one replica must drop them on the others
  await mkdir(path.join(dir, 'config'), { recursive: true })
  await writeFile(path.join(dir, 'config', 'get-all.json'), JSON.stringify({ cache: { ttl: '60s' } }))
  // the first replica migrates the schema; the others join it
  const first = await startRecordedServer(t, { ...env, TOKEN_FILE: path.join(dir, 'auth-0.properties') })
  const others = await Promise.all([1, 2].map((i) => startRecordedServer(t, { ...env, TOKEN_FILE: path.join(dir, `auth-${i}.properties`) })))
  const replicas = [first, ...others]
  const urls = replicas.map((r) => r.url)
  // every replica has called once (one sign-in for all: the tokens are shared); then the bucket fills again
  for (const url of urls) t.equal((await getAll(url)).status, 200)
  t.equal(sim.counts.signIns, 1)
  await sleep(1200)

  // 40, not 60: at most 10 calls in any 1.05 s (the rate's window), so the 60th would go 5.25 s in, past the
  // queue timeout; the 40th goes 3.15 s in
  t.test(`${CALLS} concurrent calls over the three replicas: all served, never more than ${RATE} a second upstream`, async (t) => {
    // a connection to each replica for every call of the burst, open before it (kept alive), so the calls reach
    // the replicas together rather than one handshake after another
    await Promise.all(Array.from({ length: CALLS }, (_, i) => fetch(`${urls[i % 3] ?? ''}/health`).then((r) => r.arrayBuffer())))
    sim.reset()
    const started = Date.now()
    const replies = await Promise.all(Array.from({ length: CALLS }, (_, i) => getAll(urls[i % 3] ?? '')))
    const elapsed = Date.now() - started
    t.same([...new Set(replies.map((r) => r.status))], [200], `every call answered 200 (in ${elapsed} ms)`)
    t.equal(sim.counts.apiCalls, CALLS)
    const first = Math.floor(started / 1000)
    const seconds = [...sim.callsPerSecond()].sort(([a], [b]) => a - b)
    t.ok(seconds.length >= 4, `spread over ${seconds.length} seconds: ${seconds.map(([, n]) => n).join(', ')}`)
    // the first second too: the window keeps the burst and the refill of its second from going together
    for (const [second, n] of seconds) t.ok(n <= RATE, `${n} calls reached Evercycle in second ${second - first}`)
    t.ok(elapsed >= 3150, `${CALLS} calls, ${RATE} in any 1.05 s, take 3.15 s at least, whichever replica they reach`)
  })

  t.test('a 429 answered to one replica pauses all three at once, and they serve again after it', async (t) => {
    await sleep(1200)
    sim.reset()
    sim.answer429Next(1, '2')
    const sentAt = Date.now()
    const limited = await getAll(urls[0] ?? '')
    t.equal(limited.status, 429)
    t.equal(limited.code, 'upstream_rate_limited')
    t.equal(limited.retryAfter, '2')
    // the other replicas heard of it through the cluster bus (a NOTIFY: milliseconds)
    await sleep(100)
    const during = await Promise.all(urls.flatMap((url) => [getAll(url), getAll(url), getAll(url)]))
    t.same([...new Set(during.map((r) => r.status))], [429], 'every replica answers 429 during the pause')
    t.same([...new Set(during.map((r) => r.code))], ['upstream_rate_limited'])
    t.ok(during.every((r) => Number(r.retryAfter) >= 1), 'with Retry-After')
    t.ok(during.every((r) => r.ms < 1000), `at once, without waiting for the pause: ${Math.max(...during.map((r) => r.ms))} ms at most`)
    // the row says so too, by the database's clock, for a replica that missed the notification
    const { rows } = await sql.query<{ left: number }>(`SELECT (extract(epoch FROM paused_until - clock_timestamp()) * 1000)::float8 AS left FROM upstream_budget`)
    t.ok(rows.length === 1 && (rows[0]?.left ?? 0) > 1000, `the bucket's row is paused (${Math.round(rows[0]?.left ?? 0)} ms left)`)
    await sleep(900)
    const later = await Promise.all(urls.map((url) => getAll(url)))
    t.same(later.map((r) => r.code), ['upstream_rate_limited', 'upstream_rate_limited', 'upstream_rate_limited'], 'still paused a second in')

    // then each serves again, and nothing reached Evercycle before the 2 s were over
    for (const url of urls) {
      const deadline = Date.now() + 10_000
      let reply = await getAll(url)
      while (reply.status === 429 && Date.now() < deadline) {
        await sleep(50)
        reply = await getAll(url)
      }
      t.equal(reply.status, 200, `${url} serves again after the pause`)
    }
    const rateLimited = sim.calls.findIndex((c) => c.status === 429)
    t.equal(rateLimited, 0, 'the 429 was the first call Evercycle saw')
    const after = sim.calls.slice(rateLimited + 1)
    t.equal(after.length, 3, 'then one call per replica, after the pause')
    t.ok(after.every((c) => c.at >= sentAt + 2000), `none before its end: ${after.map((c) => c.at - sentAt).join(', ')} ms after the 429's request`)
  })

  t.test("a pause in the bucket's row alone (its notification missed) is still kept by every replica", async (t) => {
    await sleep(1200)
    sim.reset()
    const pausedAt = Date.now()
    await sql.query(`UPDATE upstream_budget SET paused_until = clock_timestamp() + interval '1500 milliseconds'`)
    const replies = await Promise.all(urls.map((url) => getAll(url)))
    t.same(replies.map((r) => r.code), ['upstream_rate_limited', 'upstream_rate_limited', 'upstream_rate_limited'], 'answered 429 at once, as during any pause')
    for (const url of urls) {
      let reply = await getAll(url)
      while (reply.status === 429 && Date.now() < pausedAt + 10_000) {
        await sleep(50)
        reply = await getAll(url)
      }
      t.equal(reply.status, 200, `${url} serves again after the pause`)
    }
    t.ok(sim.calls.every((c) => c.at >= pausedAt + 1450), `none reached Evercycle before its end: ${sim.calls.map((c) => c.at - pausedAt).join(', ')} ms`)
  })

  t.test('a write on one replica drops the cached read on the others', async (t) => {
    await sleep(1200)
    const [a, b] = [urls[0] ?? '', urls[1] ?? '']
    const read = async (): Promise<{ cache: string | null; body: string }> => {
      const res = await fetch(`${b}/api/get-all?status=active`)
      return { cache: res.headers.get('x-cache'), body: await res.text() }
    }
    t.equal((await read()).cache, 'MISS')
    t.equal((await read()).cache, 'HIT', 'cached on B')
    const created = await fetch(`${a}/api/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Invalidated Laptop', status: 'active' }) })
    t.ok(created.ok, `created on A (${created.status})`)
    // A tells B through the cluster bus (a NOTIFY: milliseconds)
    let after = await read()
    for (let i = 0; i < 100 && after.cache === 'HIT'; i++) {
      await sleep(20)
      after = await read()
    }
    t.equal(after.cache, 'MISS', "B's entry went")
    t.match(after.body, 'Invalidated Laptop')
  })

  t.test('the replicas logged the 429 where it was seen, and never lost the shared rate', async (t) => {
    const logged = (r: Replica, text: string): boolean => r.output().includes(text)
    t.same(replicas.map((r) => logged(r, 'Evercycle answered 429')), [true, false, false], 'the replica that was answered 429 says so; the others were told')
    t.same(replicas.map((r) => logged(r, 'the shared rate cannot be read')), [false, false, false])
  })
})
