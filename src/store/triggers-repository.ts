import type { Queryable } from './driver.js'
import type { SealedValue } from './secrets-repository.js'

export type TriggerType = 'schedule' | 'webhook'

/** A trigger row: its definition (as the flow's current version has it) and its state. */
export interface TriggerRow {
  flowId: string
  triggerId: string
  type: TriggerType
  definition: Record<string, unknown>
  enabled: boolean
  hookId: string | null
  nextFireAt: Date | null
  lastFireAt: Date | null
  lastExecutionId: string | null
}

/** A trigger with what starting its flow needs: the owner and the current version's start node. */
export interface RunnableTrigger extends TriggerRow {
  accountId: string
  revision: number
  /** The current version's start node id and its spec (for the first job's expiry). */
  start: string
  startNode: unknown
}

interface Row {
  flow_id: string
  trigger_id: string
  type: TriggerType
  definition: Record<string, unknown>
  enabled: boolean
  hook_id: string | null
  next_fire_at: Date | null
  last_fire_at: Date | null
  last_execution_id: string | null
}

interface RunnableRow extends Row {
  account_id: string
  revision: number
  start: string
  start_node: unknown
}

const COLUMNS = 't.flow_id, t.trigger_id, t.type, t.definition, t.enabled, t.hook_id, t.next_fire_at, t.last_fire_at, t.last_execution_id'
const RUNNABLE_COLUMNS = `${COLUMNS}, f.account_id, f.revision, r.spec->>'start' AS start, r.spec->'nodes'->(r.spec->>'start') AS start_node`
const RUNNABLE_FROM = 'FROM flow_triggers t JOIN flows f ON f.id = t.flow_id JOIN flow_revisions r ON r.flow_id = f.id AND r.revision = f.revision'
const RUNNABLE = `${RUNNABLE_COLUMNS} ${RUNNABLE_FROM}`

const date = (d: Date | null): Date | null => (d === null ? null : new Date(d))

function toTrigger(r: Row): TriggerRow {
  return {
    flowId: r.flow_id,
    triggerId: r.trigger_id,
    type: r.type,
    definition: r.definition,
    enabled: r.enabled,
    hookId: r.hook_id,
    nextFireAt: date(r.next_fire_at),
    lastFireAt: date(r.last_fire_at),
    lastExecutionId: r.last_execution_id
  }
}

function toRunnable(r: RunnableRow): RunnableTrigger {
  return { ...toTrigger(r), accountId: r.account_id, revision: r.revision, start: r.start, startNode: r.start_node }
}

/** Flow triggers: rows replaced with each version of the flow (in its transaction), paused, fired, rotated. */
export class TriggersRepository {
  constructor(private readonly db: Queryable) {}

  inTransaction(tx: Queryable): TriggersRepository {
    return new TriggersRepository(tx)
  }

  /** A flow's triggers in definition order, locked (inside a transaction) when `lock`. */
  async list(flowId: string, lock = false): Promise<TriggerRow[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM flow_triggers t WHERE t.flow_id = $1 ORDER BY (t.definition->>'position')::int, t.trigger_id${lock ? ' FOR UPDATE' : ''}`,
      [flowId]
    )
    return rows.map(toTrigger)
  }

  async insert(row: Omit<TriggerRow, 'lastFireAt' | 'lastExecutionId'>): Promise<void> {
    await this.db.query(
      `INSERT INTO flow_triggers (flow_id, trigger_id, type, definition, enabled, hook_id, next_fire_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)`,
      [row.flowId, row.triggerId, row.type, JSON.stringify(row.definition), row.enabled, row.hookId, row.nextFireAt]
    )
  }

  /** A new definition for an existing trigger, keeping its hook id and history. */
  async redefine(flowId: string, triggerId: string, change: { definition: Record<string, unknown>; enabled: boolean; nextFireAt: Date | null }): Promise<void> {
    await this.db.query(
      `UPDATE flow_triggers SET definition = $3::jsonb, enabled = $4, next_fire_at = $5, updated_at = now() WHERE flow_id = $1 AND trigger_id = $2`,
      [flowId, triggerId, JSON.stringify(change.definition), change.enabled, change.nextFireAt]
    )
  }

  async delete(flowId: string, triggerIds: readonly string[]): Promise<void> {
    if (triggerIds.length === 0) return
    await this.db.query('DELETE FROM flow_triggers WHERE flow_id = $1 AND trigger_id = ANY($2::text[])', [flowId, triggerIds])
  }

  async get(flowId: string, triggerId: string, lock = false): Promise<TriggerRow | undefined> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM flow_triggers t WHERE t.flow_id = $1 AND t.trigger_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [flowId, triggerId]
    )
    return rows[0] === undefined ? undefined : toTrigger(rows[0])
  }

  /** Pauses or resumes; a resumed schedule starts from `nextFireAt` (its ticks while paused are not caught up). */
  async setEnabled(flowId: string, triggerId: string, enabled: boolean, nextFireAt: Date | null): Promise<void> {
    await this.db.query('UPDATE flow_triggers SET enabled = $3, next_fire_at = $4, updated_at = now() WHERE flow_id = $1 AND trigger_id = $2', [
      flowId,
      triggerId,
      enabled,
      nextFireAt
    ])
  }

  async rotate(flowId: string, triggerId: string, hookId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE flow_triggers SET hook_id = $3, updated_at = now() WHERE flow_id = $1 AND trigger_id = $2 AND type = 'webhook'`,
      [flowId, triggerId, hookId]
    )
    return rowCount > 0
  }

  /**
   * The enabled webhook trigger with this hook id, with what running its flow needs and, when it names a
   * signing secret, that secret's sealed value (absent when the account no longer has it): one read per request.
   */
  async byHook(hookId: string): Promise<(RunnableTrigger & { sealedSecret: SealedValue | undefined }) | undefined> {
    const { rows } = await this.db.query<RunnableRow & { key_id: string | null; nonce: Uint8Array | null; ciphertext: Uint8Array | null }>(
      `SELECT ${RUNNABLE_COLUMNS}, s.key_id, s.nonce, s.ciphertext ${RUNNABLE_FROM}
         LEFT JOIN secrets s ON s.account_id = f.account_id AND s.key = t.definition->>'secret'
        WHERE t.hook_id = $1 AND t.type = 'webhook' AND t.enabled`,
      [hookId]
    )
    const row = rows[0]
    if (row === undefined) return undefined
    const sealedSecret =
      row.key_id === null || row.nonce === null || row.ciphertext === null
        ? undefined
        : { keyId: row.key_id, nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.ciphertext) }
    return { ...toRunnable(row), sealedSecret }
  }

  /** The earliest next fire time of any enabled schedule: the scheduler's one indexed query per idle poll. */
  async nextDue(): Promise<Date | undefined> {
    const { rows } = await this.db.query<{ at: Date | null }>(
      `SELECT min(next_fire_at) AS at FROM flow_triggers WHERE enabled AND type = 'schedule'`
    )
    const at = rows[0]?.at ?? null
    return at === null ? undefined : new Date(at)
  }

  /**
   * Enabled schedules due at `now`, locked for this transaction; rows another replica holds are skipped (it
   * is firing them), so each due tick is fired by exactly one transaction.
   */
  async claimDue(now: Date, limit: number): Promise<RunnableTrigger[]> {
    const { rows } = await this.db.query<RunnableRow>(
      `SELECT ${RUNNABLE} WHERE t.enabled AND t.type = 'schedule' AND t.next_fire_at <= $1
        ORDER BY t.next_fire_at LIMIT $2 FOR UPDATE OF t SKIP LOCKED`,
      [now, limit]
    )
    return rows.map(toRunnable)
  }

  /** Records a firing: the next tick to fire and, when it ran any, the last tick and its execution. */
  async fired(flowId: string, triggerId: string, next: Date | null, last: { at: Date; executionId: string } | undefined): Promise<void> {
    await this.db.query(
      `UPDATE flow_triggers SET next_fire_at = $3, last_fire_at = COALESCE($4, last_fire_at), last_execution_id = COALESCE($5, last_execution_id)
        WHERE flow_id = $1 AND trigger_id = $2`,
      [flowId, triggerId, next, last?.at ?? null, last?.executionId ?? null]
    )
  }
}
