import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { migrate, readMigrations } from '../../src/store/migrate.js'
import { openPostgresDriver } from '../../src/store/postgres-driver.js'
import { eachBackend, openTestDriver, testSchema } from '../helpers/flowrunner.js'
import { tempDir } from '../helpers/gateway.js'

eachBackend('migrations apply once, in order, and record themselves', async (t, backend) => {
  const db = await openTestDriver(t, backend)
  const all = await readMigrations()
  t.ok(all.length >= 1)
  t.same(all.map((m) => m.version), [...all.map((m) => m.version)].sort((a, b) => a - b))
  t.same(await migrate(db), all.map((m) => m.version))
  t.same(await migrate(db), [], 'a second boot has nothing to do')
  const rows = await db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')
  t.same(rows.rows.map((r) => r.name), all.map((m) => m.name))
  const tables = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
  )
  for (const table of ['accounts', 'flow_revisions', 'flows', 'login_failures', 'revoked_tokens', 'secrets']) {
    t.ok(tables.rows.some((r) => r.table_name === table), table)
  }
})

eachBackend('a migration edited after it was applied, or unknown to the build, stops the boot', async (t, backend) => {
  const db = await openTestDriver(t, backend)
  const all = await readMigrations()
  await migrate(db, all)
  const edited = all.map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m))
  await t.rejects(migrate(db, edited), /changed after it was applied/)
  await t.rejects(migrate(db, []), /doesn't know/)
})

eachBackend('a failing migration leaves nothing behind', async (t, backend) => {
  const db = await openTestDriver(t, backend)
  const broken = [
    { version: 1, name: '001-ok.sql', sql: 'CREATE TABLE one (id int);', checksum: 'a' },
    { version: 2, name: '002-broken.sql', sql: 'CREATE TABLE two (id int); SELEKT;', checksum: 'b' }
  ]
  await t.rejects(migrate(db, broken))
  const tables = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
  t.same(tables.rows, [], 'the whole run is one transaction')
})

t.test('migration files must be numbered NNN-name.sql', async (t) => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'm'))
  await writeFile(path.join(dir, 'm', '001-first.sql'), 'SELECT 1;')
  t.same((await readMigrations(path.join(dir, 'm'))).map((m) => m.name), ['001-first.sql'])
  await writeFile(path.join(dir, 'm', 'second.sql'), 'SELECT 1;')
  await t.rejects(readMigrations(path.join(dir, 'm')), /001-name\.sql/)
})

t.test('replicas migrating one database at once queue on the advisory lock [postgres]', async (t) => {
  const { url } = await testSchema(t)
  const drivers = await Promise.all([1, 2, 3, 4].map(() => openPostgresDriver({ connectionString: url, poolSize: 2 })))
  t.teardown(() => Promise.all(drivers.map((d) => d.close())))
  const results = await Promise.all(drivers.map((d) => migrate(d)))
  const all = (await readMigrations()).map((m) => m.version)
  t.same(results.filter((r) => r.length > 0), [all], 'exactly one applied them')
  const rows = await drivers[0]?.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations')
  t.equal(rows?.rows[0]?.n, all.length)
})

eachBackend('flow revisions cannot be rewritten, only deleted with their flow', async (t, backend) => {
  const db = await openTestDriver(t, backend)
  await migrate(db)
  await db.query("INSERT INTO accounts (id, name, email, role, password_hash) VALUES ('a1', 'A', 'a@x', 'user', 'h')")
  await db.query("INSERT INTO flows (id, account_id, name, definition, revision) VALUES ('f1', 'a1', 'F', 'd', 1)")
  await db.query(
    "INSERT INTO flow_revisions (flow_id, revision, name, description, tags, definition, spec, author_id) VALUES ('f1', 1, 'F', '', '[]', 'd', '{}', 'a1')"
  )
  await t.rejects(db.query("UPDATE flow_revisions SET definition = 'tampered'"), /immutable/)
  await db.query("DELETE FROM flows WHERE id = 'f1'")
  t.same((await db.query('SELECT * FROM flow_revisions')).rows, [])
})
