import { mkdir } from 'node:fs/promises'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { lockDirectory } from './dir-lock.js'
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
 * transaction holds the database until it ends. Only one process may open a directory: a lock file beside it
 * (`<dir>.lock`) refuses a second.
 */
export async function openPgliteDriver(dir: string | undefined): Promise<Driver> {
  let unlock = async (): Promise<void> => undefined
  if (dir !== undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    unlock = await lockDirectory(`${dir}.lock`)
  }
  let db: PGlite
  try {
    db = await PGlite.create(dir)
  } catch (err) {
    await unlock()
    throw err
  }
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
      await unlock()
    }
  }
}
