import PgBoss from 'pg-boss'
import type { Driver, Queryable } from '../store/driver.js'

/**
 * The durable queue: pg-boss 10 on either backend. On PostgreSQL it has its own pool; on the embedded PGlite it
 * talks through the same single connection as everything else via pg-boss's `db.executeSql` adapter (the one
 * queue implementation for both, as pg-boss issue #563 discusses): parameterised statements go through
 * `query`, pg-boss's multi-statement scripts (`BEGIN; ...; COMMIT`) through `exec`, and a script that fails
 * mid-way is rolled back so the shared connection is never left inside an aborted transaction.
 */
export interface QueueJob<T> {
  id: string
  name: string
  data: T
  retryCount: number
}

export interface SendOptions {
  /** The job's id (a UUID), when the caller must know it before the job is visible (to record it alongside). */
  id?: string
  /** Not before this time (a `delay` step or a retry back-off). */
  startAfter?: Date
  /** How long an active job may run before pg-boss considers its worker dead and retries it. */
  expireInSeconds?: number
  retryLimit?: number
  retryDelaySeconds?: number
  singletonKey?: string
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
   * Sends a job inside `tx` and claims it for the caller in the same transaction: the row becomes visible to
   * other workers already `active`, exactly as pg-boss's fetch leaves a job it hands out (state, started_on), so
   * no other worker can also take it, and if this process dies pg-boss's expiry (started_on + expire_in) retries
   * it like any fetched job. pg-boss 10 has no claim-by-id, hence the one UPDATE on its job table. For a job
   * that may start now (no `startAfter`).
   */
  async sendClaimed<T extends object>(name: string, data: T, options: SendOptions & { id: string; tx: Queryable }): Promise<QueueJob<T>> {
    if (options.startAfter !== undefined) throw new Error('a deferred job cannot be claimed when it is sent')
    await this.send(name, data, options)
    const { rows } = await options.tx.query<{ retry_count: number }>(
      `UPDATE ${this.schema}.job SET state = 'active', started_on = now()
       WHERE name = $1 AND id = $2 AND state = 'created'
       RETURNING retry_count`,
      [name, options.id]
    )
    const row = rows[0]
    if (row === undefined) throw new Error(`job ${options.id} was not found to claim`)
    return { id: options.id, name, data, retryCount: row.retry_count }
  }

  async fetch<T>(name: string, batchSize: number): Promise<Array<QueueJob<T>>> {
    const jobs = await this.boss.fetch<T>(name, { batchSize, includeMetadata: true })
    return jobs.map((j) => ({ id: j.id, name: j.name, data: j.data, retryCount: (j as PgBoss.JobWithMetadata<T>).retryCount }))
  }

  async complete(name: string, id: string): Promise<void> {
    await this.boss.complete(name, id)
  }

  async fail(name: string, id: string, reason: string): Promise<void> {
    await this.boss.fail(name, id, { message: reason })
  }

  async cancel(name: string, id: string): Promise<void> {
    await this.boss.cancel(name, id)
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, close: true })
  }
}
