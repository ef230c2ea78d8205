import type { Queryable } from './driver.js'
import {
  COLUMNS,
  LIVE_SQL,
  SEVERITY,
  toExecution,
  type Execution,
  type ExecutionRow,
  type ExecutionStatus,
  type LogEntry,
  type LogLevel,
  type NewExecution,
  type NewLog,
  type StepUpdate,
  type WaitState
} from './execution-rows.js'
import { logsParam, withLogs, type AlsoStatement } from './execution-log-sql.js'
import type { Owner } from './flows-repository.js'
import { sealedFromJson, sealedSecretsJson, type SealedValue } from './secrets-repository.js'

const INSERT_EXECUTION = `INSERT INTO executions (id, flow_id, revision, account_id, status, input, next_node, deadline_at, started_at, job_id, rerun_of, nodes, triggered_by)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, CASE WHEN $5 = 'running' THEN now() END, $9, $10, $11::jsonb, $12::jsonb)`

/** An execution and its account's sealed secrets: what a worker reads before it runs a job. */
export interface ExecutionForRun {
  execution: Execution
  sealed: Map<string, SealedValue>
  /** A child's parent has ended (cancelled, or failed) since the child was created: the child must not run. */
  orphaned?: boolean
  /** Marked running by the read itself (the execution was queued or waiting for this job): its start time. */
  startedAt?: Date
}

function insertParams(e: NewExecution): unknown[] {
  return [e.id, e.flowId, e.revision, e.accountId, e.status, JSON.stringify(e.input ?? {}), e.startNode, e.deadlineAt, e.jobId, e.rerunOf ?? null, JSON.stringify(e.nodes ?? {}), e.triggeredBy === undefined ? null : JSON.stringify(e.triggeredBy)]
}

/** Executions and their log lines; every state change writes its log lines in the same statement. */
export class ExecutionsRepository {
  constructor(private readonly db: Queryable) {}

  /** The same repository on a transaction's connection (a state change and the job it hands work to). */
  inTransaction(tx: Queryable): ExecutionsRepository {
    return new ExecutionsRepository(tx)
  }

  async create(e: NewExecution): Promise<Execution> {
    const { rows } = await this.db.query<ExecutionRow>(`${INSERT_EXECUTION} RETURNING ${COLUMNS}`, insertParams(e))
    return toExecution(rows[0] as ExecutionRow)
  }

  /**
   * Creates the execution and reads its account's sealed secrets (what `getForRun` returns to the worker that
   * runs it) in one statement, together with `also`: another INSERT, given the number of its first parameter,
   * that must happen exactly when this one does (the execution's first job, already claimed by this worker).
   * One statement is atomic on its own: no transaction, one round trip.
   */
  async createForRun(e: NewExecution, also: AlsoStatement): Promise<ExecutionForRun> {
    const params = insertParams(e)
    const other = also(params.length + 1)
    const { rows } = await this.db.query<ExecutionRow & { sealed: unknown }>(
      `WITH created AS (${INSERT_EXECUTION} RETURNING ${COLUMNS}), other AS (${other.sql})
       SELECT ${COLUMNS}, ${sealedSecretsJson('created.account_id')} AS sealed FROM created`,
      [...params, ...other.params]
    )
    const row = rows[0] as ExecutionRow & { sealed: unknown }
    return { execution: toExecution(row), sealed: sealedFromJson(row.sealed) }
  }

  async get(id: string, owner: Owner = null): Promise<Execution | undefined> {
    const { rows } = await this.db.query<ExecutionRow>(
      `SELECT ${COLUMNS} FROM executions WHERE id = $1 AND ($2::text IS NULL OR account_id = $2)`,
      [id, owner]
    )
    return rows[0] === undefined ? undefined : toExecution(rows[0])
  }

  /**
   * The execution and its account's sealed secrets in one read: what a worker needs to run it; for a child,
   * whether its parent has ended meanwhile. With `jobId`, the job the worker holds, a queued or waiting
   * execution that job owns is marked running in the same statement (`startedAt`: its start time; absent when
   * nothing was marked, e.g. it was cancelled meanwhile).
   */
  async getForRun(id: string, jobId?: string): Promise<ExecutionForRun | undefined> {
    const { rows } = await this.db.query<ExecutionRow & { sealed: unknown; orphaned: boolean; started_now: Date | null }>(
      `WITH target AS (
         SELECT ${COLUMNS}, ${sealedSecretsJson('executions.account_id')} AS sealed,
                parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM executions p WHERE p.id = executions.parent_id AND p.status IN ${LIVE_SQL}) AS orphaned
           FROM executions WHERE id = $1
       ), started AS (
         UPDATE executions e SET status = 'running', started_at = COALESCE(e.started_at, now()), updated_at = now()
           FROM target t
          WHERE e.id = t.id AND $2::text IS NOT NULL AND e.job_id = $2 AND e.status IN ('queued', 'waiting') AND e.next_node IS NOT NULL AND NOT t.orphaned
          RETURNING e.started_at
       )
       SELECT target.*, (SELECT started_at FROM started) AS started_now FROM target`,
      [id, jobId ?? null]
    )
    const row = rows[0]
    if (row === undefined) return undefined
    return {
      execution: toExecution(row),
      sealed: sealedFromJson(row.sealed),
      orphaned: row.orphaned,
      ...(row.started_now === null ? {} : { startedAt: new Date(row.started_now) })
    }
  }

  /**
   * A page of executions, newest first. With `parentId`, that execution's children (the current one of each
   * item, not those a retry replaced) in item order.
   */
  async list(filter: { owner: Owner; flowId?: string; status?: ExecutionStatus; parentId?: string; limit: number; offset: number }): Promise<{ executions: Execution[]; total: number }> {
    const where = `($1::text IS NULL OR account_id = $1) AND ($2::text IS NULL OR flow_id = $2) AND ($3::text IS NULL OR status = $3)
      AND ($4::text IS NULL OR (parent_id = $4 AND NOT superseded))`
    const params = [filter.owner, filter.flowId ?? null, filter.status ?? null, filter.parentId ?? null]
    const order = filter.parentId === undefined ? 'created_at DESC, id DESC' : 'parent_step DESC, parent_node, item_index, id'
    const { rows } = await this.db.query<ExecutionRow>(
      `SELECT ${COLUMNS} FROM executions WHERE ${where} ORDER BY ${order} LIMIT $5 OFFSET $6`,
      [...params, filter.limit, filter.offset]
    )
    const count = await this.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM executions WHERE ${where}`, params)
    return { executions: rows.map(toExecution), total: Number(count.rows[0]?.n ?? 0) }
  }

  /**
   * Marks a queued or waiting execution running (what it waited for is kept until its next step is saved);
   * its start time, or undefined when it had been cancelled meanwhile.
   */
  async markRunning(id: string): Promise<Date | undefined> {
    const { rows } = await this.db.query<{ started_at: Date }>(
      `UPDATE executions SET status = 'running', started_at = COALESCE(started_at, now()), updated_at = now()
        WHERE id = $1 AND status IN ${LIVE_SQL} RETURNING started_at`,
      [id]
    )
    return rows[0] === undefined ? undefined : new Date(rows[0].started_at)
  }

  /**
   * Records a finished step with its log lines in one statement; a no-op (false) when the execution was
   * cancelled or finished meanwhile, or another worker already recorded this step.
   */
  async saveStep(id: string, step: StepUpdate, logs: readonly NewLog[], also?: AlsoStatement): Promise<boolean> {
    const f = step.final
    const params: unknown[] = [
      id,
      step.nodeId,
      JSON.stringify(step.result ?? null),
      step.nextNode,
      step.attempt,
      f?.status ?? null,
      f === undefined ? null : JSON.stringify(f.result ?? null),
      f?.error ?? null,
      f?.nodeId ?? null,
      step.expect.steps,
      step.expect.attempt,
      step.jobId ?? null,
      logsParam(logs)
    ]
    const other = also?.(params.length + 1)
    const { rows } = await this.db.query<{ n: number }>(
      withLogs(
        `UPDATE executions
            SET nodes = nodes || jsonb_build_object($2::text, $3::jsonb),
                next_node = $4, attempt = $5, steps = steps + 1, last_node = $2, updated_at = now(),
                status = COALESCE($6, status),
                result = CASE WHEN $6 IS NULL THEN result ELSE $7::jsonb END,
                error = COALESCE($8, error),
                node_id = COALESCE($9, node_id),
                completed_at = CASE WHEN $6 IS NULL THEN NULL ELSE now() END,
                job_id = COALESCE($12, job_id), waiting = NULL
          WHERE id = $1 AND status = 'running' AND steps = $10 AND attempt = $11`,
        '$13',
        other?.sql
      ),
      other === undefined ? params : [...params, ...other.params]
    )
    return (rows[0]?.n ?? 0) > 0
  }

  /**
   * The execution waits (a delay, a retry back-off, its children) and job `jobId`, when given, takes it on
   * after: nothing moves but the status, the attempt counter when `nextAttempt` (a retry) and the job. `also`
   * runs in the same statement.
   */
  async saveWait(
    id: string,
    expect: { steps: number; attempt: number },
    wait: { state: WaitState; nextAttempt: boolean; jobId: string | null; childrenPending?: number },
    logs: readonly NewLog[],
    also?: AlsoStatement
  ): Promise<boolean> {
    const params: unknown[] = [id, expect.steps, expect.attempt, wait.jobId, logsParam(logs), JSON.stringify(wait.state), wait.nextAttempt, wait.childrenPending ?? 0]
    const other = also?.(params.length + 1)
    const { rows } = await this.db.query<{ n: number }>(
      withLogs(
        `UPDATE executions SET status = 'waiting', waiting = $6::jsonb, attempt = attempt + CASE WHEN $7::boolean THEN 1 ELSE 0 END,
                children_pending = $8::int, updated_at = now(), job_id = COALESCE($4, job_id)
          WHERE id = $1 AND status = 'running' AND steps = $2 AND attempt = $3`,
        '$5',
        other?.sql
      ),
      other === undefined ? params : [...params, ...other.params]
    )
    return (rows[0]?.n ?? 0) > 0
  }

  /**
   * Ends a live execution (failure without a step, cancel) with its log lines: false when it had already ended.
   * `also` runs in the same statement either way.
   */
  async finish(id: string, status: 'failed' | 'cancelled', error: string | null, nodeId: string | null, logs: readonly NewLog[] = [], also?: AlsoStatement): Promise<boolean> {
    const params: unknown[] = [id, status, error, nodeId, logsParam(logs)]
    const other = also?.(params.length + 1)
    const { rows } = await this.db.query<{ n: number }>(
      withLogs(
        `UPDATE executions SET status = $2, error = COALESCE($3, error), node_id = COALESCE($4, node_id), next_node = NULL,
                completed_at = clock_timestamp(), updated_at = now()
          WHERE id = $1 AND status IN ${LIVE_SQL}`,
        '$5',
        other?.sql
      ),
      other === undefined ? params : [...params, ...other.params]
    )
    return (rows[0]?.n ?? 0) > 0
  }

  async logs(id: string, filter: { level?: LogLevel; limit: number; offset: number }): Promise<{ logs: LogEntry[]; total: number }> {
    const min = filter.level === undefined ? 0 : SEVERITY[filter.level]
    const { rows } = await this.db.query<{ ts: Date; level: LogLevel; message: string; node_id: string | null; node_type: string | null; data: unknown }>(
      `SELECT ts, level, message, node_id, node_type, data FROM execution_logs
        WHERE execution_id = $1 AND severity >= $2 ORDER BY id LIMIT $3 OFFSET $4`,
      [id, min, filter.limit, filter.offset]
    )
    const count = await this.db.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM execution_logs WHERE execution_id = $1 AND severity >= $2',
      [id, min]
    )
    return {
      logs: rows.map((r) => ({ timestamp: new Date(r.ts), level: r.level, message: r.message, nodeId: r.node_id, nodeType: r.node_type, data: r.data })),
      total: Number(count.rows[0]?.n ?? 0)
    }
  }

  /** The execution's nodes in the order they started and completed, from its log. */
  async nodeOrder(id: string): Promise<Array<{ nodeId: string; event: 'started' | 'completed' }>> {
    const { rows } = await this.db.query<{ node_id: string; message: string }>(
      `SELECT node_id, message FROM execution_logs
        WHERE execution_id = $1 AND node_id IS NOT NULL AND message IN ('Node started', 'Node completed') ORDER BY id`,
      [id]
    )
    return rows.map((r) => ({ nodeId: r.node_id, event: r.message === 'Node started' ? 'started' : 'completed' }))
  }

  /** Finished executions (and their logs, by cascade) older than the retention period. */
  async prune(retentionDays: number): Promise<number> {
    const res = await this.db.query(
      `DELETE FROM executions WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < now() - make_interval(days => $1)`,
      [retentionDays]
    )
    return res.rowCount
  }

  /** Executions still live past their deadline (e.g. their job was lost): the sweeper fails them. */
  async overdue(limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM executions WHERE status IN ${LIVE_SQL} AND deadline_at < now() - interval '1 minute' LIMIT $1`,
      [limit]
    )
    return rows.map((r) => r.id)
  }
}
