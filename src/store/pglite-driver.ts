import { mkdir } from 'node:fs/promises'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { toDatabaseError, type Driver, type Queryable, type QueryResult } from './driver.js'

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      try {
        const res = await target.query<R>(sql, [...params])
        return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) }
      } catch (err) {
        throw toDatabaseError(err)
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await target.exec(sql)
      } catch (err) {
        throw toDatabaseError(err)
      }
    }
  }
}

/**
 * Embedded PostgreSQL (WASM) in a directory: one connection, so PGlite serialises every query itself and a
 * transaction holds the database until it ends. Only one process may open a directory.
 */
export async function openPgliteDriver(dir: string | undefined): Promise<Driver> {
  if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 })
  const db = await PGlite.create(dir)
  const self = wrap(db)
  return {
    kind: 'pglite',
    query: self.query,
    exec: self.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      try {
        return await db.transaction((tx) => fn(wrap(tx)))
      } catch (err) {
        throw toDatabaseError(err)
      }
    },
    async close(): Promise<void> {
      if (!db.closed) await db.close()
    }
  }
}
