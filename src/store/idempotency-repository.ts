import type { Queryable } from './driver.js'

/** How long a key returns the execution its first request created. */
export const IDEMPOTENCY_TTL_HOURS = 24

export type KeyClaim = { claimed: true } | { claimed: false; executionId: string; requestHash: string }

/** Idempotency keys per flow: the first request with a key claims it, in the transaction creating its execution. */
export class IdempotencyRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Claims `key` for `executionId` (created later in the same transaction), or reports the execution an earlier
   * request created with it. A concurrent claim of the same key waits on this one's row until it commits (then
   * finds it) or rolls back (then claims it). A key older than the TTL is claimed afresh.
   */
  async claim(flowId: string, key: string, requestHash: string, executionId: string): Promise<KeyClaim> {
    const { rows } = await this.db.query<{ execution_id: string }>(
      `INSERT INTO idempotency_keys (flow_id, key, request_hash, execution_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (flow_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, execution_id = EXCLUDED.execution_id, created_at = now()
         WHERE idempotency_keys.created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
       RETURNING execution_id`,
      [flowId, key, requestHash, executionId]
    )
    if (rows.length > 0) return { claimed: true }
    const existing = await this.db.query<{ execution_id: string; request_hash: string }>(
      'SELECT execution_id, request_hash FROM idempotency_keys WHERE flow_id = $1 AND key = $2',
      [flowId, key]
    )
    const row = existing.rows[0]
    // the row that conflicted was deleted between the two statements (its flow or execution went): claim again
    if (row === undefined) return this.claim(flowId, key, requestHash, executionId)
    return { claimed: false, executionId: row.execution_id, requestHash: row.request_hash }
  }

  /** Housekeeping: keys past the TTL. */
  async prune(): Promise<number> {
    const { rowCount } = await this.db.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`)
    return rowCount
  }
}
