import { access, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { lockDirectory } from './dir-lock.js'
import { toDatabaseError, type Driver, type Queryable, type QueryResult } from './driver.js'
import { copyTemplate } from './pglite-template.js'

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
 * How often the embedded database is vacuumed. PGlite is PostgreSQL in single-user mode: no autovacuum worker
 * runs, so without this nothing would reclaim the row versions that pg-boss and the repositories update and
 * delete, and a long-running box's tables would only grow. A pass over a small database takes milliseconds.
 */
export const VACUUM_INTERVAL_MS = 15 * 60_000

export interface PgliteDriverOptions {
  /** Milliseconds between vacuum passes (`VACUUM_INTERVAL_MS`). */
  vacuumIntervalMs?: number
  /** Told after each timed pass, with the error if it failed (the store logs it; the timer keeps going). Must not throw. */
  onVacuum?: (err: Error | undefined) => void
  /** The ready-made database a first boot copies (pglite-template.ts): default the build's; false: none. */
  template?: false | string
}

/**
 * PostgreSQL's buffer pool inside PGlite's WASM memory, all of it resident: initdb's default of 128 MB is most
 * of an idle server's memory, for a database this small. The kernel's page cache still holds the files.
 */
const SHARED_BUFFERS = '16MB'

async function hasCluster(dir: string): Promise<boolean> {
  try {
    await access(path.join(dir, 'PG_VERSION'))
    return true
  } catch {
    return false
  }
}

/**
 * Embedded PostgreSQL (WASM) in a directory: one connection, so PGlite serialises every query itself and a
 * transaction holds the database until it ends. Only one process may open a directory: a lock file beside it
 * (`<dir>.lock`) refuses a second. `VACUUM (ANALYZE)` runs on a timer, standing in for autovacuum.
 */
export async function openPgliteDriver(dir: string | undefined, options: PgliteDriverOptions = {}): Promise<Driver> {
  let unlock = async (): Promise<void> => undefined
  if (dir !== undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    unlock = await lockDirectory(`${dir}.lock`)
  }
  let db: PGlite
  try {
    if (dir !== undefined && options.template !== false && !(await hasCluster(dir))) await copyTemplate(dir, options.template)
    db = await PGlite.create({
      dataDir: dir,
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`]
    })
  } catch (err) {
    await unlock()
    throw err
  }
  const self = wrap(db)
  let vacuuming: Promise<void> | undefined
  const vacuum = async (): Promise<void> => {
    let failure: Error | undefined
    try {
      // queued behind any transaction under way: PGlite runs one statement at a time
      await self.exec('VACUUM (ANALYZE)')
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err))
    }
    try {
      options.onVacuum?.(failure)
    } catch {
      // a throwing observer must not turn into an unhandled rejection on a timer
    }
  }
  const timer = setInterval(() => {
    // a pass still running (a slow disk) is not doubled up
    vacuuming ??= vacuum().finally(() => {
      vacuuming = undefined
    })
  }, options.vacuumIntervalMs ?? VACUUM_INTERVAL_MS)
  timer.unref()
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
      clearInterval(timer)
      await vacuuming
      if (!db.closed) await db.close()
      await unlock()
    }
  }
}
