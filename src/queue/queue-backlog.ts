import type { Queryable } from '../store/driver.js'

export interface QueueBacklog {
  /** Jobs that may run now and wait for a worker. */
  waiting: number
  /** Jobs scheduled for later (delays, retry back-off): not a backlog yet. */
  deferred: number
  /** Jobs a worker holds. */
  active: number
  /** How long the oldest waiting job has been runnable (0 when none waits). */
  oldestWaitingSeconds: number
}

/**
 * One queue's backlog, read from pg-boss 10's job table (its API counts only "before active" and knows no
 * ages). A job becomes runnable at `start_after`, which pg-boss sets to its creation or its retry time, so the
 * age counts from there: a deferred step does not look like a stuck one. Cluster-wide: every replica sees the
 * same table. The table's columns are pg-boss's private schema: package.json pins pg-boss with `~` for this.
 */
export async function queueBacklog(db: Queryable, schema: string, queue: string): Promise<QueueBacklog> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Invalid queue schema name ${JSON.stringify(schema)}`)
  const { rows } = await db.query<{ waiting: number; deferred: number; active: number; oldest: number }>(
    `SELECT count(*) FILTER (WHERE state < 'active' AND start_after <= now())::integer AS waiting,
            count(*) FILTER (WHERE state < 'active' AND start_after > now())::integer AS deferred,
            count(*) FILTER (WHERE state = 'active')::integer AS active,
            COALESCE(extract(epoch FROM now() - min(start_after) FILTER (WHERE state < 'active' AND start_after <= now())), 0)::float8 AS oldest
       FROM ${schema}.job
      WHERE name = $1 AND state <= 'active'`,
    [queue]
  )
  const row = rows[0]
  return {
    waiting: row?.waiting ?? 0,
    deferred: row?.deferred ?? 0,
    active: row?.active ?? 0,
    oldestWaitingSeconds: Math.max(0, row?.oldest ?? 0)
  }
}
