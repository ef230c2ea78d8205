import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { DATABASE_DOWN_WAIT_MS, SharedRate } from '../../src/evercycle/upstream/shared-rate.js'
import type { Driver, Queryable } from '../../src/store/driver.js'
import { migrate } from '../../src/store/migrate.js'
import { UpstreamBudgetRepository, type RateShape } from '../../src/store/upstream-budget-repository.js'
import { eachBackend, openTestDriver, type Backend, type Tap } from '../helpers/flowrunner.js'

const KEY = 'http://127.0.0.1:9'
/** A bucket whose window (100 a second) never binds in the tests of the bucket alone. */
const bucket = (rate: number, burst: number): RateShape => ({ rate, burst, windowLimit: 100, windowMs: 1050 })
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

async function migrated(t: Tap, backend: Backend): Promise<Driver> {
  const db = await openTestDriver(t, backend)
  await migrate(db)
  return db
}

async function row(db: Queryable): Promise<{ tokens: number; paused_ms: number | null } | undefined> {
  const { rows } = await db.query<{ tokens: number; paused_ms: number | null }>(
    `SELECT tokens, (extract(epoch FROM paused_until - clock_timestamp()) * 1000)::float8 AS paused_ms FROM upstream_budget WHERE key = $1`,
    [KEY]
  )
  return rows[0]
}

eachBackend('the shared bucket: created full on first take, one token a take, then the wait for the next', async (t, backend) => {
  const db = await migrated(t, backend)
  const repo = new UpstreamBudgetRepository(db)
  const shape = bucket(10, 3)
  t.equal(await row(db), undefined, 'no row before the first take')
  for (let i = 0; i < 3; i++) t.equal((await repo.take(KEY, shape)).waitMs, 0, `take ${i + 1} of the burst`)
  const empty = await repo.take(KEY, shape)
  t.ok(empty.waitMs >= 1 && empty.waitMs <= 100, `then the time one token takes at 10/s: ${empty.waitMs} ms`)
  t.equal(empty.pausedMs, 0)
  t.ok(((await row(db))?.tokens ?? 1) < 1, 'the row holds what is left: less than a token')
  await sleep(empty.waitMs)
  t.equal((await repo.take(KEY, shape)).waitMs, 0, 'a caller who sleeps what it was told finds its token')
  // the refill is computed from the database's clock: a row last updated a second ago has refilled
  await db.query(`UPDATE upstream_budget SET tokens = 0, updated_at = clock_timestamp() - interval '1 second' WHERE key = $1`, [KEY])
  const refilled = await repo.take(KEY, shape)
  t.equal(refilled.waitMs, 0)
  t.ok(refilled.tokens > 1.9 && refilled.tokens <= 2, `capped at the burst, one taken: ${refilled.tokens}`)
})

eachBackend('the shared bucket: a reserve, a refund, never beyond the burst', async (t, backend) => {
  const db = await migrated(t, backend)
  const repo = new UpstreamBudgetRepository(db)
  const shape = bucket(0.001, 2)
  const reserved = await repo.take(KEY, shape, 1)
  t.equal(reserved.waitMs, 0, 'two there: a take leaving one is fine')
  const short = await repo.take(KEY, shape, 1)
  t.ok(short.waitMs > 900_000, `one left: a take that must leave one waits for a refill (${short.waitMs} ms)`)
  t.equal((await repo.take(KEY, shape, 0)).waitMs, 0, 'a take with no reserve gets it')
  t.ok((await repo.take(KEY, shape, 0)).waitMs > 0, 'empty')
  await repo.refund(KEY, shape)
  t.equal((await repo.take(KEY, shape)).waitMs, 0, 'the refunded token')
  for (let i = 0; i < 5; i++) await repo.refund(KEY, shape)
  t.equal(Math.round((await row(db))?.tokens ?? -1), 2, 'refunds stop at the burst')
  t.equal((await repo.take(KEY, shape, 5)).waitMs, 0, 'a reserve beyond the burst is clamped to it')
})

eachBackend('the shared bucket: a pause stops every take until it ends, and only ever extends', async (t, backend) => {
  const db = await migrated(t, backend)
  const repo = new UpstreamBudgetRepository(db)
  const shape = bucket(100, 5)
  await repo.pause(KEY, shape, 600)
  const first = await row(db)
  t.equal(first?.tokens, 5, 'a pause before any take creates a full bucket')
  const paused = await repo.take(KEY, shape)
  t.ok(paused.waitMs > 400 && paused.waitMs <= 600, `paused: wait ${paused.waitMs} ms`)
  t.equal(paused.waitMs, Math.ceil(paused.pausedMs))
  await repo.pause(KEY, shape, 50)
  t.ok((await repo.take(KEY, shape)).waitMs > 300, 'a shorter pause learnt later does not cut the first short')
  await repo.pause(KEY, shape, 900)
  t.ok((await repo.take(KEY, shape)).waitMs > 700, 'a longer one extends it')
  await db.query(`UPDATE upstream_budget SET paused_until = clock_timestamp() - interval '1 millisecond' WHERE key = $1`, [KEY])
  t.equal((await repo.take(KEY, shape)).waitMs, 0, 'served again once it has ended')
})

eachBackend('the shared bucket: concurrent takes never hand out more than it holds', async (t, backend) => {
  const db = await migrated(t, backend)
  const repo = new UpstreamBudgetRepository(db)
  const shape = bucket(0.001, 10)
  const waits = await Promise.all(Array.from({ length: 60 }, () => repo.take(KEY, shape)))
  t.equal(waits.filter((w) => w.waitMs === 0).length, 10, 'exactly the burst, whichever connection asked')
  t.ok(((await row(db))?.tokens ?? 1) < 0.01, 'nothing left')
})

async function windowSlots(db: Queryable): Promise<{ used: number; size: number }> {
  const { rows } = await db.query<{ used: number; size: number }>(
    `SELECT cardinality(array_remove(window_times, NULL))::int AS used, cardinality(window_times)::int AS size FROM upstream_budget WHERE key = $1`,
    [KEY]
  )
  return rows[0] ?? { used: -1, size: -1 }
}

eachBackend('the shared window: no window-long interval holds more than its limit, however full the bucket', async (t, backend) => {
  const db = await migrated(t, backend)
  const repo = new UpstreamBudgetRepository(db)
  // the bucket alone would let 10 through now and 10 more a second later (refilled while idle): 20 in ~1 s
  const shape: RateShape = { rate: 10, burst: 10, windowLimit: 10, windowMs: 1050 }
  const first = Date.now()
  let firstTaken = first
  for (let i = 0; i < 10; i++) {
    t.equal((await repo.take(KEY, shape)).waitMs, 0, `take ${i + 1} of the burst`)
    if (i === 0) firstTaken = Date.now()
  }
  await sleep(1000 - (Date.now() - first))
  const asked = Date.now()
  const blocked = await repo.take(KEY, shape)
  t.ok(blocked.tokens >= 9, `the bucket has refilled (${blocked.tokens.toFixed(2)} tokens)`)
  t.ok(blocked.windowMs > 0 && blocked.waitMs === Math.max(1, Math.ceil(blocked.windowMs)), `but the window waits ${blocked.waitMs} ms`)
  // the first take was stamped by the time its answer came back, and this one no earlier than it was asked
  const latest = firstTaken + shape.windowMs - asked
  t.ok(blocked.waitMs <= Math.ceil(latest) + 1, `until the first take of the burst is a window old (at most ${latest} ms)`)
  await sleep(blocked.waitMs)
  t.equal((await repo.take(KEY, shape)).waitMs, 0, 'then one more')
  t.same(await windowSlots(db), { used: 10, size: 10 })
})

eachBackend('the shared window: a take with a reserve (a flow) leaves that many slots for takes without one', async (t, backend) => {
  const db = await migrated(t, backend)
  const repo = new UpstreamBudgetRepository(db)
  const shape: RateShape = { rate: 100, burst: 100, windowLimit: 10, windowMs: 60_000 }
  let flows = 0
  while ((await repo.take(KEY, shape, 2)).waitMs === 0) flows++
  t.equal(flows, 8, 'a caller leaving 2 slots gets 8 of 10, with the bucket full')
  const refused = await repo.take(KEY, shape, 2)
  t.ok(refused.windowMs > 50_000 && refused.tokens > 80, `refused by the window (${Math.round(refused.windowMs)} ms), not the bucket`)
  t.equal((await repo.take(KEY, shape)).waitMs, 0, 'an interactive take gets the 9th at once')
  t.equal((await repo.take(KEY, shape)).waitMs, 0, 'and the 10th')
  t.ok((await repo.take(KEY, shape)).windowMs > 50_000, 'then the window is full for everyone')
  t.same(await windowSlots(db), { used: 10, size: 10 })
})

eachBackend('the shared window: a refund with its stamp frees the slot; a resize starts it empty', async (t, backend) => {
  const db = await migrated(t, backend)
  const repo = new UpstreamBudgetRepository(db)
  const shape: RateShape = { rate: 100, burst: 3, windowLimit: 3, windowMs: 60_000 }
  const taken = []
  for (let i = 0; i < 3; i++) taken.push(await repo.take(KEY, shape))
  t.same(taken.map((x) => x.waitMs), [0, 0, 0])
  t.ok((await repo.take(KEY, shape)).windowMs > 50_000, 'the window is full for a minute')
  await repo.refund(KEY, shape, taken[2]?.stamp)
  t.same(await windowSlots(db), { used: 2, size: 3 }, "the latest take refunded: its slot is free")
  t.equal((await repo.take(KEY, shape)).waitMs, 0, 'and the next take reuses it')
  t.ok((await repo.take(KEY, shape)).windowMs > 50_000, 'but no other')
  // the ring: [first, second, fourth], the first's slot next; an older take refunded leaves a hole where it was
  await repo.refund(KEY, shape, taken[1]?.stamp)
  t.same(await windowSlots(db), { used: 2, size: 3 }, 'an older take refunded: its slot is a hole')
  t.ok((await repo.take(KEY, shape)).windowMs > 50_000, 'reached only in turn: the first take is still in the window')
  await repo.refund(KEY, shape, taken[0]?.stamp)
  t.equal((await repo.take(KEY, shape)).waitMs, 0, "the first refunded too: the ring's next slot is free, one more goes")
  t.equal((await repo.take(KEY, shape)).waitMs, 0, "then the second's hole: two calls went in the window, so a third fits")
  t.ok((await repo.take(KEY, shape)).windowMs > 50_000, 'and no fourth')
  await repo.refund(KEY, shape)
  t.same(await windowSlots(db), { used: 3, size: 3 }, 'a refund without its stamp leaves the window as it is')
  const wider: RateShape = { ...shape, windowLimit: 5 }
  t.equal((await repo.take(KEY, wider)).waitMs, 0, 'a new rate: the window is resized')
  t.same(await windowSlots(db), { used: 1, size: 5 })
})

/** The driver, counting the statements sent through it. */
function counting(db: Queryable): { db: Queryable; count: () => number; reset: () => void } {
  let n = 0
  return {
    db: {
      query: (sql, params) => {
        n++
        return db.query(sql, params)
      },
      exec: (sql) => db.exec(sql)
    },
    count: () => n,
    reset: () => {
      n = 0
    }
  }
}

eachBackend('the shared rate: callers waiting for tokens do not all poll the row', async (t, backend) => {
  const db = await migrated(t, backend)
  const { db: counted, count, reset } = counting(db)
  const rate = new SharedRate({ repository: new UpstreamBudgetRepository(counted), key: KEY, ...bucket(40, 2), log: silent })
  // the row exists (its first use costs two more statements), and the bucket is full again
  t.equal(await rate.take(0), 0)
  await sleep(50)
  reset()
  const callers = 12
  const started = Date.now()
  // as the budget does: take, and sleep what it says until a token is taken
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (;;) {
        const wait = await rate.take(0)
        if (wait === 0) return
        await sleep(wait)
      }
    })
  )
  const elapsed = Date.now() - started
  t.ok(elapsed >= 225, `10 tokens past the burst at 40/s take 250 ms: ${elapsed} ms`)
  // the first round asks once per caller (nothing known of the others yet); then about one query per token, not
  // one per waiting caller each time a token is due (which would be 10 + 9 + … + 1 = 55 more)
  t.ok(count() <= callers + 2 * 10, `${count()} statements for ${callers} takes`)
  t.equal(Math.round((await row(db))?.tokens ?? -1), 0)
})

eachBackend('the shared rate: a window wait told to a flow does not hold back interactive calls', async (t, backend) => {
  const db = await migrated(t, backend)
  const rate = new SharedRate({ repository: new UpstreamBudgetRepository(db), key: KEY, rate: 100, burst: 100, windowLimit: 10, windowMs: 60_000, log: silent })
  let flows = 0
  while ((await rate.take(2)) === 0) flows++
  t.equal(flows, 8)
  t.ok((await rate.take(2)) > 50_000, 'the next flow call waits for the window')
  t.equal(await rate.take(0), 0, 'an interactive call still takes one of the two slots left')
})

eachBackend("the shared rate: a pause in the row (another replica's 429) is waited out and reported", async (t, backend) => {
  const db = await migrated(t, backend)
  const repository = new UpstreamBudgetRepository(db)
  const told: number[] = []
  const rate = new SharedRate({ repository, key: KEY, ...bucket(10, 10), log: silent, onPaused: (until) => told.push(until) })
  t.equal(await rate.take(0), 0)
  await repository.pause(KEY, bucket(10, 10), 800)
  const wait = await rate.take(0)
  t.ok(wait > 600 && wait <= 800, `the pause's remaining ${wait} ms`)
  t.equal(told.length, 1)
  t.ok(Math.abs((told[0] ?? 0) - (Date.now() + wait)) < 100, 'reported as its end by this clock (a little short of it)')
  t.ok((await rate.take(0)) > 500, 'known without asking again')
  await rate.refund()
  t.equal(Math.round((await row(db))?.tokens ?? -1), 10, 'a refund lands in the row, capped at the burst')
})

eachBackend("the shared rate: a refund right after its take (a flow call with no slot) frees its window slot", async (t, backend) => {
  const db = await migrated(t, backend)
  const rate = new SharedRate({ repository: new UpstreamBudgetRepository(db), key: KEY, rate: 10, burst: 10, windowLimit: 10, windowMs: 1050, log: silent })
  t.equal(await rate.take(0), 0)
  await rate.refund()
  t.same(await windowSlots(db), { used: 0, size: 10 }, 'refunded before anything else ran: struck from the window')
  t.equal(await rate.take(0), 0)
  await sleep(10)
  await rate.refund()
  t.same(await windowSlots(db), { used: 1, size: 10 }, "refunded later (it may be another call's): left to age out")
})

t.test('the shared rate: a database it cannot reach holds calls (a wait) instead of failing them', async (t) => {
  const broken: Queryable = {
    query: () => Promise.reject(new Error('connection refused')),
    exec: () => Promise.reject(new Error('connection refused'))
  }
  const errors: unknown[] = []
  const rate = new SharedRate({
    repository: new UpstreamBudgetRepository(broken),
    key: KEY,
    ...bucket(10, 10),
    log: { ...silent, error: (obj) => errors.push(obj) }
  })
  t.equal(await rate.take(0), DATABASE_DOWN_WAIT_MS)
  t.equal(await rate.take(0), DATABASE_DOWN_WAIT_MS)
  t.equal(errors.length, 1, 'logged once per outage')
  await t.resolves(rate.refund(), 'a refund that cannot be written is dropped')
})
