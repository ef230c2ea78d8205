import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { DatabaseError, isUniqueViolation } from '../../src/store/driver.js'
import { openPgliteDriver } from '../../src/store/pglite-driver.js'
import { eachBackend, openTestDriver } from '../helpers/flowrunner.js'
import { tempDir } from '../helpers/gateway.js'
import { seedPglite } from '../helpers/pglite-template.js'

eachBackend('the driver: parameters, types, multi-statement exec, row counts', async (t, backend) => {
  const db = await openTestDriver(t, backend)
  t.equal(db.kind, backend)
  await db.exec(`CREATE TABLE items (id text PRIMARY KEY, n integer, data jsonb, raw bytea, at timestamptz DEFAULT now());
                 CREATE UNIQUE INDEX items_lower ON items (lower(id));`)
  const inserted = await db.query<{ id: string }>(
    'INSERT INTO items (id, n, data, raw) VALUES ($1, $2, $3::jsonb, $4), ($5, $6, $7::jsonb, $8) RETURNING id',
    ['a', 1, JSON.stringify({ tags: ['x'] }), Buffer.from([0, 1, 255]), 'b', 2, '[]', new Uint8Array([9])]
  )
  t.equal(inserted.rowCount, 2)
  const { rows } = await db.query<{ id: string; n: number; data: unknown; raw: Uint8Array; at: Date; total: number }>(
    'SELECT *, (SELECT count(*)::int FROM items) AS total FROM items WHERE id = $1',
    ['a']
  )
  const row = rows[0]
  t.equal(row?.n, 1)
  t.same(row?.data, { tags: ['x'] }, 'jsonb comes back parsed')
  t.same([...(row?.raw ?? [])], [0, 1, 255], 'bytea comes back as bytes')
  t.ok(row?.at instanceof Date, 'timestamptz comes back as a Date')
  t.equal(row?.total, 2, 'count(*)::int is a number on both drivers')
  t.equal((await db.query('UPDATE items SET n = n + 1')).rowCount, 2)
  t.equal((await db.query('SELECT id FROM items')).rowCount, 2)
  t.equal((await db.query('DELETE FROM items WHERE id = $1', ['zzz'])).rowCount, 0)
})

eachBackend('errors are DatabaseError with code and constraint, never the parameters', async (t, backend) => {
  const db = await openTestDriver(t, backend)
  await db.exec('CREATE TABLE people (email text NOT NULL); CREATE UNIQUE INDEX people_email_key ON people (lower(email));')
  await db.query('INSERT INTO people (email) VALUES ($1)', ['a@example.com'])
  const err = await db.query('INSERT INTO people (email) VALUES ($1)', ['A@example.com']).catch((e: unknown) => e)
  t.ok(err instanceof DatabaseError)
  t.ok(isUniqueViolation(err, 'people_email_key'))
  t.notOk(isUniqueViolation(err, 'other_constraint'))
  t.same(Object.keys(err as object).sort(), ['code', 'constraint', 'name'].sort(), 'no query text or parameters ride along')
  const syntax = await db.query('SELEKT 1').catch((e: unknown) => e)
  t.equal((syntax as DatabaseError).code, '42601')
})

eachBackend('transactions commit on success and roll back on error', async (t, backend) => {
  const db = await openTestDriver(t, backend)
  await db.exec('CREATE TABLE counter (n integer NOT NULL)')
  const result = await db.transaction(async (tx) => {
    await tx.query('INSERT INTO counter (n) VALUES (1)')
    return (await tx.query<{ n: number }>('SELECT n FROM counter')).rows
  })
  t.same(result, [{ n: 1 }])
  await t.rejects(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO counter (n) VALUES (2)')
      throw new Error('changed my mind')
    }),
    /changed my mind/
  )
  await t.rejects(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO counter (n) VALUES (3)')
      await tx.query('INSERT INTO counter (n) VALUES (NULL)')
    }),
    DatabaseError
  )
  t.same((await db.query('SELECT n FROM counter ORDER BY n')).rows, [{ n: 1 }], 'only the committed row remains')
  t.equal((await db.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]?.ok, 1, 'the driver is usable after a failed transaction')
})

t.test('close is idempotent', async (t) => {
  const db = await openTestDriver(t, 'pglite')
  await db.close()
  await db.close()
  t.pass()
})

t.test('a PGlite directory is opened by one driver at a time; a lock left by a dead owner is taken over', async (t) => {
  const dir = path.join(await tempDir(t, 'fr-lock-'), 'pglite')
  await seedPglite(path.dirname(dir), { migrated: false })
  const first = await openPgliteDriver(dir)
  await t.rejects(openPgliteDriver(dir), /in use by process \d+/)
  await first.close()
  const second = await openPgliteDriver(dir)
  await first.close()
  t.equal((await readFile(`${dir}.lock`, 'utf8')).trim(), `${process.pid} ${hostname()}`, "a late second close leaves the new owner's lock alone")
  await second.close()

  // a lock left by a process that no longer exists
  const child = spawn(process.execPath, ['-e', ''])
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
  await writeFile(`${dir}.lock`, `${child.pid}\n`)
  const third = await openPgliteDriver(dir)
  t.equal((await third.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]?.ok, 1)
  await third.close()

  // another host (two containers on one volume, each maybe pid 1): its pid can't be checked from here
  await writeFile(`${dir}.lock`, `${process.pid} another-host\n`)
  await t.rejects(openPgliteDriver(dir), /in use by process \d+ on another-host/)
  // a lock file still being written (created, no pid yet) belongs to whoever is writing it
  await writeFile(`${dir}.lock`, '')
  await t.rejects(openPgliteDriver(dir), /in use/)
  await rm(`${dir}.lock`)
})

/** Watches a driver's timed vacuum passes: how many ran, their errors, and a wait for the next ones. */
class VacuumPasses {
  count = 0
  readonly errors: Error[] = []
  private waiters: Array<{ count: number; resolve: () => void }> = []

  readonly onVacuum = (err: Error | undefined): void => {
    this.count++
    if (err !== undefined) this.errors.push(err)
    this.waiters = this.waiters.filter((w) => (w.count <= this.count ? (w.resolve(), false) : true))
  }

  /**
   * Resolves once `more` passes after the ones counted so far have ended. The driver's timer is unref'd (it must
   * not keep a process alive), so an idle test process would exit before it fires: a ref'd timer holds it meanwhile.
   */
  async next(more = 1): Promise<void> {
    const count = this.count + more
    const keepAlive = setInterval(() => undefined, 60_000)
    try {
      await new Promise<void>((resolve) => this.waiters.push({ count, resolve }))
    } finally {
      clearInterval(keepAlive)
    }
  }
}

t.test('PGlite runs no autovacuum: the driver vacuums on a timer, so churned rows free their space for reuse', async (t) => {
  const dir = path.join(await tempDir(t, 'fr-vacuum-'), 'pglite')
  await seedPglite(path.dirname(dir), { migrated: false })
  const passes = new VacuumPasses()
  const db = await openPgliteDriver(dir, { vacuumIntervalMs: 20, onVacuum: passes.onVacuum })
  t.teardown(() => db.close())
  // every row rewritten once: the table now holds as many dead row versions as live ones
  await db.exec(`CREATE TABLE churn (id integer PRIMARY KEY, v text);
                 INSERT INTO churn SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g;
                 UPDATE churn SET v = repeat('y', 100);`)
  const size = async (): Promise<number> =>
    (await db.query<{ bytes: number }>("SELECT pg_total_relation_size('churn')::int AS bytes")).rows[0]?.bytes ?? 0
  const before = await size()
  // a pass that began before the rewrite may not have seen it: the second from now started after it
  await passes.next(2)
  t.same(passes.errors, [], 'the timed passes succeed')
  const stats = await db.query<{ vacuum_count: number }>(
    "SELECT vacuum_count::int AS vacuum_count FROM pg_stat_user_tables WHERE relname = 'churn'"
  )
  t.ok((stats.rows[0]?.vacuum_count ?? 0) >= 1, 'the table was vacuumed')
  // rewritten again: without the vacuum the file grows by half; with it the dead versions' space is reused
  await db.exec("UPDATE churn SET v = repeat('z', 100)")
  const after = await size()
  t.ok(after < before * 1.1, `the second rewrite reused the freed space (${before} → ${after} bytes)`)
})

t.test('closing the driver stops its vacuum timer and waits for a pass under way', async (t) => {
  const dir = path.join(await tempDir(t, 'fr-vacuum-close-'), 'pglite')
  await seedPglite(path.dirname(dir), { migrated: false })
  const passes = new VacuumPasses()
  const db = await openPgliteDriver(dir, { vacuumIntervalMs: 1, onVacuum: passes.onVacuum })
  await passes.next()
  await db.close()
  t.same(passes.errors, [], 'no pass ran against the closed database')
  // the lock was released: the directory opens again
  const again = await openPgliteDriver(dir)
  t.equal((await again.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]?.ok, 1)
  await again.close()
})
