import PgBoss from 'pg-boss'
import type { Driver, Queryable } from '../store/driver.js'

/**
 * The durable queue: pg-boss 10 on either backend. On PostgreSQL it has its own pool; on the embedded PGlite it
 * talks through the same single connection as everything else via pg-boss's `db.executeSql` adapter (the one
 * queue implementation for both, as pg-boss issue #563 discusses): parameterised statements go through
 * `query`, pg-boss's multi-statement scripts (`BEGIN; ...; COMMIT`) through `exec`, and a script that fails
 * mid-way is rolled back so the shared connection is never left inside an aborted transaction.
 * `claimedInsert` and `completeStatement` write pg-boss's private `job` table: package.json pins pg-boss with
 * `~` for them, and a minor upgrade must rerun test/engine/local-claim.test.ts, which compares their rows with
 * pg-boss's own.
 */
export interface QueueJob<T> {
  id: string
  name: string
  data: T
}

export interface SendOptions {
  /** The job's id (a UUID), when the caller must know it before the job is visible (to record it alongside). */
  id?: string
  /** Not before this time (a `delay` step or a retry back-off). */
  startAfter?: Date
  /** How long an active job may run before pg-boss considers its worker dead and retries it. */
  expireInSeconds?: number
  retryLimit?: number
  /** Enqueue inside this transaction, so the job exists exactly when the state change that needs it does. */
  tx?: Queryable
}

export interface QueueOptions {
  /** PostgreSQL schema for pg-boss's tables. */
  schema: string
  /** Seconds between maintenance passes (which expire the jobs of dead workers). */
  maintenanceIntervalSeconds: number
  databaseUrl?: string
  poolSize?: number
  onError: (err: Error) => void
}

/** PostgreSQL's SQLSTATE for a transaction it aborted to break a deadlock. */
const DEADLOCK_DETECTED = '40P01'

function adapter(db: Queryable): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      if (values.length === 0 && /^\s*BEGIN\b/i.test(text)) {
        try {
          await db.exec(text)
        } catch (err) {
          await db.exec('ROLLBACK').catch(() => undefined)
          throw err
        }
        return { rows: [] }
      }
      const res = await db.query(text, values)
      return { rows: res.rows, rowCount: res.rowCount }
    }
  }
}

export class JobQueue {
  private constructor(
    private readonly boss: PgBoss,
    private readonly schema: string
  ) {}

  static async open(driver: Driver, options: QueueOptions): Promise<JobQueue> {
    const common = {
      schema: options.schema,
      supervise: true,
      schedule: false,
      migrate: true,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds,
      monitorStateIntervalSeconds: 60
    }
    const boss =
      driver.kind === 'postgres' && options.databaseUrl !== undefined
        ? new PgBoss({ ...common, connectionString: options.databaseUrl, max: options.poolSize ?? 5 })
        : new PgBoss({ ...common, db: adapter(driver) })
    boss.on('error', options.onError)
    await boss.start()
    return new JobQueue(boss, options.schema)
  }

  /**
   * Creates the queue unless it exists. Replicas booting together race here, and pg-boss's create_queue (insert
   * the queue row, then attach a partition referencing the queue table) can deadlock against another replica's;
   * PostgreSQL then aborts one of them, which looks again: by then the other has created it.
   */
  async createQueue(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if ((await this.boss.getQueue(name)) !== null) return
      try {
        await this.boss.createQueue(name, { name, policy: 'standard' })
        return
      } catch (err) {
        if ((err as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt >= 5) throw err
      }
    }
  }

  async send<T extends object>(name: string, data: T, options: SendOptions = {}): Promise<string | null> {
    const { tx, startAfter, ...rest } = options
    return this.boss.send(name, data, {
      ...rest,
      ...(startAfter === undefined ? {} : { startAfter }),
      ...(tx === undefined ? {} : { db: adapter(tx) })
    })
  }

  /**
   * A job that its sender runs itself, as one INSERT for the sender to put in a WITH of its own statement (with
   * the state change the job is for, so both exist or neither; parameters numbered from `first`). The row is the
   * one pg-boss's `send` inserts for these options (same defaults taken from the queue's row), except that it is
   * already `active` with `started_on`, as pg-boss's fetch leaves a job it hands out: no other worker ever sees it
   * unclaimed, and if the sender dies pg-boss's expiry (started_on + expire_in) retries it like any fetched job.
   * pg-boss 10 has no claim-by-id; a test compares this row with the one `send` makes. No `startAfter`: a claimed
   * job starts now. The job table is partitioned by queue, so a queue that does not exist fails the statement.
   */
  claimedInsert<T extends object>(
    name: string,
    data: T,
    options: { id: string; expireInSeconds: number; retryLimit: number },
    first: number
  ): { sql: string; params: unknown[] } {
    const p = (i: number): string => `$${first + i}`
    const sql = `INSERT INTO ${this.schema}.job (id, name, data, priority, state, start_after, started_on, dead_letter, expire_in,
         keep_until, retry_limit, retry_delay, retry_backoff, policy)
       SELECT j.id, j.name, j.data, 0, 'active', now(), now(), q.dead_letter, j.expire_s * interval '1s',
         now() + CAST(COALESCE((q.retention_minutes * 60)::text, '14 days') AS interval), COALESCE(j.retry_limit, q.retry_limit, 2),
         CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(q.retry_delay, 1) ELSE COALESCE(q.retry_delay, 0) END,
         COALESCE(q.retry_backoff, false), q.policy
       FROM (SELECT ${p(0)}::uuid AS id, ${p(1)}::text AS name, ${p(2)}::jsonb AS data, ${p(3)}::numeric AS expire_s, ${p(4)}::int AS retry_limit) j
       LEFT JOIN ${this.schema}.queue q ON q.name = j.name`
    return { sql, params: [options.id, name, JSON.stringify(data), options.expireInSeconds, options.retryLimit] }
  }

  /**
   * What `complete(name, id)` does (pg-boss's own UPDATE for it), as a statement for the caller to put in a WITH
   * of its own statement (parameters numbered from `first`): a job is completed with the state change that ends
   * its work, in one round trip.
   */
  completeStatement(name: string, id: string, first: number): { sql: string; params: unknown[] } {
    return {
      sql: `UPDATE ${this.schema}.job SET completed_on = now(), state = 'completed', output = NULL
             WHERE name = $${first} AND id = $${first + 1}::uuid AND state = 'active'`,
      params: [name, id]
    }
  }

  async fetch<T>(name: string, batchSize: number): Promise<Array<QueueJob<T>>> {
    const jobs = await this.boss.fetch<T>(name, { batchSize })
    return jobs.map((j) => ({ id: j.id, name: j.name, data: j.data }))
  }

  async complete(name: string, id: string): Promise<void> {
    await this.boss.complete(name, id)
  }

  async fail(name: string, id: string, reason: string): Promise<void> {
    await this.boss.fail(name, id, { message: reason })
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, close: true })
  }
}
