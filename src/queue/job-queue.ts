import PgBoss from 'pg-boss'
import type { Driver, Queryable } from '../store/driver.js'

/**
 * The durable queue: pg-boss 10 on either backend. On PostgreSQL it has its own pool; on the embedded PGlite it
 * talks through the same single connection as everything else via pg-boss's `db.executeSql` adapter (the one
 * queue implementation for both, as pg-boss issue #563 discusses): parameterised statements go through
 * `query`, pg-boss's multi-statement scripts (`BEGIN; ...; COMMIT`) through `exec`, and a script that fails
 * mid-way is rolled back so the shared connection is never left inside an aborted transaction.
 * `claimedInsert`, `completeStatement` and `fetchFair` write pg-boss's private `job` table: package.json pins
 * pg-boss with `~` for them, and a minor upgrade must rerun test/engine/local-claim.test.ts and
 * fair-claim.test.ts, which compare their rows with pg-boss's own.
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

/** How a fair fetch shares jobs between groups (accounts). */
export interface FairFetch {
  /** The field of a job's data naming its group. */
  groupBy: string
  /** The jobs each group holds now (claimed and not finished). */
  running: ReadonlyMap<string, number>
  /** The most jobs one group may hold. */
  cap: number
}

/** A fair fetch looks at this many due jobs per job it may claim. */
const FAIR_WINDOW_PER_JOB = 10

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

  /** Several jobs in one statement (pg-boss's `insert`), inside the transaction `tx`. */
  async sendMany<T extends object>(
    name: string,
    jobs: ReadonlyArray<{ id: string; data: T; expireInSeconds: number; retryLimit: number }>,
    tx: Queryable
  ): Promise<void> {
    if (jobs.length === 0) return
    await this.boss.insert(
      jobs.map((j) => ({ name, id: j.id, data: j.data, expireInSeconds: j.expireInSeconds, retryLimit: j.retryLimit })),
      { db: adapter(tx) }
    )
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

  /**
   * Claims up to `max` jobs of a `standard` queue like `fetch`, shared fairly between groups (the field
   * `fair.groupBy` of a job's data; jobs without it are one group, ''): a group holding `fair.cap` jobs
   * (`fair.running`) gets none and one holding fewer gets at most the difference; the groups take turns, each
   * group's oldest job before any group's second, oldest first within a group. pg-boss 10 has no fetch with a
   * condition, so this is its fetchNextJob statement (plans.js) with the same state change (active,
   * started_on, retry_count + 1 for a job started before), over a window of due jobs locked `SKIP LOCKED` that
   * leaves out the groups at their cap (so one group's backlog cannot fill it), ranked per group. The window
   * is bounded: a group below its cap whose backlog fills it gets its share now, the others at the next fetch,
   * when that group is at its cap. No singleton/stately gate (pg-boss's other policies): the caller's queue is
   * `standard`. Unlike pg-boss's fetch, a failing statement throws.
   */
  async fetchFair<T>(name: string, max: number, fair: FairFetch): Promise<Array<QueueJob<T>>> {
    const s = this.schema
    const sql = `
      WITH held AS (
        SELECT key AS grp, value::int AS n FROM jsonb_each_text($3::jsonb)
      ), next AS (
        SELECT id, COALESCE(data->>$4::text, '') AS grp, priority, created_on
        FROM ${s}.job
        WHERE name = $1
          AND state < 'active'
          AND start_after < now()
          AND COALESCE(data->>$4::text, '') NOT IN (SELECT grp FROM held WHERE n >= $5::int)
        ORDER BY priority DESC, created_on, id
        LIMIT $6::int
        FOR UPDATE SKIP LOCKED
      ), ranked AS (
        SELECT n.id, n.priority, n.created_on, COALESCE(h.n, 0) AS running,
          row_number() OVER (PARTITION BY n.grp ORDER BY n.priority DESC, n.created_on, n.id) AS turn
        FROM next n LEFT JOIN held h ON h.grp = n.grp
      ), chosen AS (
        SELECT id FROM ranked
        WHERE running + turn <= $5::int
        ORDER BY turn, running, priority DESC, created_on, id
        LIMIT $2::int
      )
      UPDATE ${s}.job j SET
        state = 'active',
        started_on = now(),
        retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END
      FROM chosen
      WHERE j.name = $1 AND j.id = chosen.id
      RETURNING j.id, j.name, j.data`
    const window = Math.max(max, 1) * FAIR_WINDOW_PER_JOB
    const { rows } = await this.boss
      .getDb()
      .executeSql(sql, [name, max, JSON.stringify(Object.fromEntries(fair.running)), fair.groupBy, fair.cap, window])
    return (rows as Array<QueueJob<T>>).map((j) => ({ id: j.id, name: j.name, data: j.data }))
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
