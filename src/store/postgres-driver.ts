import pg from 'pg'
import { toDatabaseError, type Driver, type Queryable, type QueryResult } from './driver.js'

export interface PostgresOptions {
  connectionString: string
  poolSize: number
  /** Pool errors on idle clients (server restart, network) must be reported, not crash the process. */
  onPoolError?: (err: Error) => void
}

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      try {
        const res = await target.query<R & pg.QueryResultRow>(sql, [...params])
        return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length }
      } catch (err) {
        throw toDatabaseError(err)
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        // no parameters: pg uses the simple protocol, which accepts several statements
        await target.query(sql)
      } catch (err) {
        throw toDatabaseError(err)
      }
    }
  }
}

/** PostgreSQL through a `pg` pool; a transaction pins one pooled client from BEGIN to COMMIT/ROLLBACK. */
export async function openPostgresDriver(options: PostgresOptions): Promise<Driver> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize })
  pool.on('error', (err) => options.onPoolError?.(err))
  // fail at boot, not on the first request, when the server is unreachable or refuses us
  const probe = await pool.connect().catch((err: unknown) => {
    void pool.end()
    throw toDatabaseError(err)
  })
  probe.release()
  const self = wrap(pool)
  let closed = false
  return {
    kind: 'postgres',
    query: self.query,
    exec: self.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect()
      let broken = false
      try {
        await client.query('BEGIN')
        const result = await fn(wrap(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        try {
          await client.query('ROLLBACK')
        } catch {
          // the connection itself failed: don't hand it back to the pool
          broken = true
        }
        throw toDatabaseError(err)
      } finally {
        client.release(broken)
      }
    },
    async close(): Promise<void> {
      if (closed) return
      closed = true
      await pool.end()
    }
  }
}
