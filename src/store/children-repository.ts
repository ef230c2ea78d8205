import type { Queryable } from './driver.js'
import { LIVE_SQL, type ExecutionStatus } from './execution-rows.js'

/** One visit of a parent's node: the children it started are those of this (parent, node, step). */
export interface Visit {
  parentId: string
  node: string
  step: number
}

/** What the children of a visit are started with. */
export interface NewChildren {
  flowId: string
  revision: number
  accountId: string
  startNode: string
  deadlineAt: Date
  depth: number
  /** Each item's input, in item order. */
  inputs: readonly unknown[]
  /** An earlier execution (the one re-run) whose completed children of this node are reused for the same input. */
  reuseFrom?: string | undefined
}

/** A child given a job: the job to send for it. */
export interface Dispatched {
  id: string
  jobId: string
  accountId: string
}

/** How a parent's children of one visit stand. */
export interface ChildCounts {
  total: number
  completed: number
  failed: number
  cancelled: number
  running: number
  waiting: number
  queued: number
}

export interface ChildRow {
  id: string
  itemIndex: number
  status: ExecutionStatus
  result: unknown
  error: string | null
}

const OF_VISIT = 'parent_id = $1 AND parent_node = $2 AND parent_step = $3 AND NOT superseded'

const COUNTS = `count(*)::int AS total,
  (count(*) FILTER (WHERE status = 'completed'))::int AS completed,
  (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
  (count(*) FILTER (WHERE status = 'cancelled'))::int AS cancelled,
  (count(*) FILTER (WHERE status = 'running'))::int AS running,
  (count(*) FILTER (WHERE status = 'waiting'))::int AS waiting,
  (count(*) FILTER (WHERE status = 'queued'))::int AS queued`

/**
 * The rows of child executions: a `flow` or `foreach` node starts them, they are given jobs `concurrency` at a
 * time, and each one that ends hands its place to the next and, the last, wakes its parent.
 */
export class ChildrenRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Creates a visit's children, one per input, except the items that already completed in this visit (the
   * node is retried) or, for a re-run, in the original's last visit of the node with the same input (copied,
   * completed, with `rerun_of` naming the original child). Children an earlier attempt left failed or
   * cancelled are superseded. Returns how many new children wait to run.
   */
  async create(visit: Visit, c: NewChildren): Promise<number> {
    const v = [visit.parentId, visit.node, visit.step]
    await this.db.query(`UPDATE executions SET superseded = true WHERE ${OF_VISIT} AND status <> 'completed'`, v)
    const inputs = JSON.stringify(c.inputs)
    if (c.reuseFrom !== undefined) {
      await this.db.query(
        `INSERT INTO executions (id, flow_id, revision, account_id, status, input, result, nodes, steps, last_node, next_node,
                                 deadline_at, started_at, completed_at, parent_id, parent_node, parent_step, item_index, depth, rerun_of)
         SELECT 'exec-' || gen_random_uuid(), o.flow_id, o.revision, o.account_id, 'completed', o.input, o.result, o.nodes, o.steps,
                o.last_node, NULL, o.deadline_at, o.started_at, o.completed_at, $1, $2, $3, o.item_index, $6, o.id
           FROM executions o
           JOIN jsonb_array_elements($5::jsonb) WITH ORDINALITY AS i(input, ord) ON o.item_index = i.ord - 1 AND o.input = i.input
          WHERE o.parent_id = $4 AND o.parent_node = $2 AND NOT o.superseded AND o.status = 'completed' AND o.flow_id = $7
            AND o.parent_step = (SELECT max(parent_step) FROM executions WHERE parent_id = $4 AND parent_node = $2)
            AND NOT EXISTS (SELECT 1 FROM executions d WHERE d.parent_id = $1 AND d.parent_node = $2 AND d.parent_step = $3
                              AND d.item_index = o.item_index AND NOT d.superseded)`,
        [...v, c.reuseFrom, inputs, c.depth, c.flowId]
      )
    }
    const res = await this.db.query(
      `INSERT INTO executions (id, flow_id, revision, account_id, status, input, next_node, deadline_at,
                               parent_id, parent_node, parent_step, item_index, depth)
       SELECT 'exec-' || gen_random_uuid(), $4, $5, $6, 'queued', i.input, $7, $8, $1, $2, $3, i.ord - 1, $9
         FROM jsonb_array_elements($10::jsonb) WITH ORDINALITY AS i(input, ord)
        WHERE NOT EXISTS (SELECT 1 FROM executions d WHERE d.parent_id = $1 AND d.parent_node = $2 AND d.parent_step = $3
                            AND d.item_index = i.ord - 1 AND NOT d.superseded AND d.status = 'completed')
        ORDER BY i.ord`,
      [...v, c.flowId, c.revision, c.accountId, c.startNode, c.deadlineAt, c.depth, inputs]
    )
    return res.rowCount
  }

  /** Gives up to `max` of a visit's children that have no job yet one each, first items first. */
  async dispatch(visit: Visit, max: number): Promise<Dispatched[]> {
    const { rows } = await this.db.query<{ id: string; job_id: string; account_id: string }>(
      `UPDATE executions SET job_id = gen_random_uuid()::text, updated_at = now()
        WHERE id IN (SELECT id FROM executions WHERE ${OF_VISIT} AND status = 'queued' AND job_id IS NULL
                      ORDER BY item_index LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING id, job_id, account_id`,
      [visit.parentId, visit.node, visit.step, max]
    )
    return rows.map((r) => ({ id: r.id, jobId: r.job_id, accountId: r.account_id }))
  }

  /**
   * A child of the visit ended (its end is in this transaction), first part: while the parent still waits,
   * the next child without a job gets one. No lock on the parent: should the parent stop waiting meanwhile
   * (its first failure woke it), the cancel that follows finds this child live and cancels it.
   */
  async next(visit: Visit): Promise<Dispatched | undefined> {
    const { rows } = await this.db.query<{ id: string; job_id: string; account_id: string }>(
      `UPDATE executions c SET job_id = gen_random_uuid()::text, updated_at = now()
        WHERE c.id = (SELECT id FROM executions WHERE ${OF_VISIT} AND status = 'queued' AND job_id IS NULL
                       ORDER BY item_index LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND EXISTS (SELECT 1 FROM executions p WHERE p.id = $1 AND p.status = 'waiting')
        RETURNING c.id, c.job_id, c.account_id`,
      [visit.parentId, visit.node, visit.step]
    )
    const row = rows[0]
    return row === undefined ? undefined : { id: row.id, jobId: row.job_id, accountId: row.account_id }
  }

  /**
   * Second part, the last statement before the commit (it locks the parent's row until then, so siblings
   * ending at once queue here only briefly): the parent counts the child, and wakes (`resumeJobId` becomes its
   * job) when this was its last child, or when the child failed and the parent stops at the first failure.
   * The SET is computed on the row as locked, so two children ending at once both count.
   */
  async count(visit: Visit, failed: boolean, resumeJobId: string): Promise<{ accountId: string; steps: number; attempt: number } | undefined> {
    const { rows } = await this.db.query<{ status: string; account_id: string; steps: number; attempt: number }>(
      `UPDATE executions p SET children_pending = p.children_pending - 1, updated_at = now(),
              status = CASE WHEN p.children_pending <= 1 OR ($4::boolean AND p.waiting->>'onItemError' = 'fail') THEN 'running' ELSE p.status END,
              job_id = CASE WHEN p.children_pending <= 1 OR ($4::boolean AND p.waiting->>'onItemError' = 'fail') THEN $5 ELSE p.job_id END
        WHERE p.id = $1 AND p.status = 'waiting' AND p.waiting->>'kind' = 'children' AND p.waiting->>'node' = $2 AND p.steps = $3
        RETURNING p.status, p.account_id, p.steps, p.attempt`,
      [visit.parentId, visit.node, visit.step, failed, resumeJobId]
    )
    const row = rows[0]
    return row?.status === 'running' ? { accountId: row.account_id, steps: row.steps, attempt: row.attempt } : undefined
  }

  /** How the visit's current children stand. */
  async counts(visit: Visit): Promise<ChildCounts> {
    const { rows } = await this.db.query<ChildCounts>(`SELECT ${COUNTS} FROM executions WHERE ${OF_VISIT}`, [visit.parentId, visit.node, visit.step])
    return rows[0] as ChildCounts
  }

  /** The counts of an execution's children of its last visit that started any (undefined: it has none). */
  async latestCounts(parentId: string): Promise<ChildCounts | undefined> {
    const { rows } = await this.db.query<ChildCounts>(
      `SELECT ${COUNTS} FROM executions c
        WHERE c.parent_id = $1 AND NOT c.superseded
          AND (c.parent_step, c.parent_node) = (SELECT parent_step, parent_node FROM executions WHERE parent_id = $1
                                                 ORDER BY parent_step DESC, created_at DESC LIMIT 1)`,
      [parentId]
    )
    const counts = rows[0]
    return counts === undefined || counts.total === 0 ? undefined : counts
  }

  /** The node of the execution's latest visit whose current children did not all complete. */
  async nodeWithFailedChildren(parentId: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ parent_node: string }>(
      `SELECT parent_node FROM executions WHERE parent_id = $1 AND NOT superseded AND status IN ('failed', 'cancelled')
        ORDER BY parent_step DESC LIMIT 1`,
      [parentId]
    )
    return rows[0]?.parent_node
  }

  /** The bytes the completed children's results take as JSON text. */
  async resultBytes(visit: Visit): Promise<number> {
    const { rows } = await this.db.query<{ n: string | null }>(
      `SELECT sum(octet_length(result::text))::text AS n FROM executions WHERE ${OF_VISIT} AND status = 'completed'`,
      [visit.parentId, visit.node, visit.step]
    )
    return Number(rows[0]?.n ?? 0)
  }

  /** The visit's current children in item order, with their results when `withResults`. */
  async rows(visit: Visit, withResults: boolean): Promise<ChildRow[]> {
    const { rows } = await this.db.query<{ id: string; item_index: number; status: ExecutionStatus; result: unknown; error: string | null }>(
      `SELECT id, item_index, status, ${withResults ? 'result' : 'NULL::jsonb AS result'}, error
         FROM executions WHERE ${OF_VISIT} ORDER BY item_index`,
      [visit.parentId, visit.node, visit.step]
    )
    return rows.map((r) => ({ id: r.id, itemIndex: r.item_index, status: r.status, result: r.result, error: r.error }))
  }

  /**
   * Cancels the live executions under `roots` (a visit's children, or every descendant of one execution),
   * however deep, with a log line each. The end time is the clock's when the row is written: a row that a
   * worker marked running while this statement waited for it ends after it started, not at the statement's
   * start. Says how many it cancelled, and which had been given a job (those a worker may be running, whose
   * cancel must reach it).
   */
  async cancelUnder(roots: { visit: Visit } | { parentId: string }): Promise<{ changed: number; started: string[] }> {
    const [seed, params] =
      'visit' in roots
        ? [`SELECT id FROM executions WHERE ${OF_VISIT}`, [roots.visit.parentId, roots.visit.node, roots.visit.step]]
        : ['SELECT id FROM executions WHERE parent_id = $1', [roots.parentId]]
    const at = params.length + 1
    const { rows } = await this.db.query<{ id: string; job_id: string | null }>(
      `WITH RECURSIVE tree AS (
         ${seed}
         UNION ALL
         SELECT e.id FROM executions e JOIN tree t ON e.parent_id = t.id
       ), changed AS (
         UPDATE executions e SET status = 'cancelled', next_node = NULL, completed_at = clock_timestamp(), updated_at = now()
           FROM tree WHERE e.id = tree.id AND e.status IN ${LIVE_SQL}
         RETURNING e.id, e.job_id
       ), logged AS (
         INSERT INTO execution_logs (execution_id, ts, level, severity, message)
         SELECT id, now(), 'info', 20, $${at} FROM changed
       )
       SELECT id, job_id FROM changed`,
      [...params, 'Execution cancelled']
    )
    return { changed: rows.length, started: rows.filter((r) => r.job_id !== null).map((r) => r.id) }
  }
}
