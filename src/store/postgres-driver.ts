import pg from 'pg'
import { toDatabaseError, type Driver, type Queryable, type QueryResult } from './driver.js'

export interface PostgresOptions {
  connectionString: string
  poolSize: number
  /** Pool errors on idle clients (server restart, network) must be reported, not crash the process. */
  onPoolError?: (err: Error) => void
}

/** Distinct statement texts that get a prepared statement; past this, texts run unnamed (parsed each time). */
const MAX_PREPARED = 500
const statementNames = new Map<string, string>()

/**
 * A name for the statement, so each pooled connection parses and plans it once and then only binds and runs
 * it: the engine and the API send the same few statements thousands of times. The texts are the code's own
 * constants (values always travel as parameters), so the set stays small; the cap is a backstop.
 */
function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql)
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `s${statementNames.size}`
    statementNames.set(sql, name)
  }
  return name
}

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      try {
        const name = params.length > 0 ? statementName(sql) : undefined
        const res = await target.query<R & pg.QueryResultRow>(name === undefined ? { text: sql, values: [...params] } : { name, text: sql, values: [...params] })
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
