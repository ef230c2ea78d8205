import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Driver } from './driver.js'

/** Beside this module in src/ (tsx) and in dist/src/ (the build copies the .sql files). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))

const FILE = /^(\d{3})-([a-z0-9][a-z0-9-]*)\.sql$/

/** Any constant works; it only has to be the same for every replica. */
const LOCK_KEY = 'flowrunner.migrations'

export interface Migration {
  version: number
  name: string
  sql: string
  checksum: string
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  const migrations: Migration[] = []
  for (const file of files) {
    const match = FILE.exec(file)
    if (match === null) throw new Error(`Migration file name must look like 001-name.sql: ${file}`)
    const sql = await readFile(`${dir}/${file}`, 'utf8')
    const version = Number(match[1])
    if (migrations.some((m) => m.version === version)) throw new Error(`Two migrations are numbered ${match[1]}`)
    migrations.push({ version, name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') })
  }
  return migrations
}

/**
 * Applies the pending migrations in one transaction. Replicas booting together queue on the advisory lock,
 * and the one that gets it second finds nothing left to do. A migration that was applied and then edited
 * stops the boot: the database no longer matches the files, and guessing would be worse.
 */
export async function migrate(driver: Driver, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await readMigrations())
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_KEY])
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version'
    )
    const applied = new Map(rows.map((r) => [r.version, r]))
    const known = new Set(all.map((m) => m.version))
    const unknown = rows.filter((r) => !known.has(r.version))
    if (unknown.length > 0) {
      throw new Error(`The database has migrations this build doesn't know (${unknown.map((r) => r.name).join(', ')}): is it older than the data?`)
    }
    const done: number[] = []
    for (const m of all) {
      const previous = applied.get(m.version)
      if (previous !== undefined) {
        if (previous.checksum !== m.checksum) throw new Error(`Migration ${m.name} changed after it was applied; add a new migration instead`)
        continue
      }
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum])
      done.push(m.version)
    }
    return done
  })
}
