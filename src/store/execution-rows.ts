/** An execution and its log lines as the engine, the routes and the repository see them, and the row mapping. */

export type ExecutionStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled'
export const TERMINAL: ReadonlySet<ExecutionStatus> = new Set(['completed', 'failed', 'cancelled'])
/** The statuses of an execution that has not ended, as SQL. */
export const LIVE_SQL = "('queued', 'running', 'waiting')"

/** What a `waiting` execution waits for, since when (ms since the epoch), at which node. */
export type WaitState =
  | { kind: 'delay'; node: string; since: number; until: number }
  | { kind: 'retry'; node: string; since: number; until: number }
  /** Evercycle asked callers to wait (a 429, its circuit open, no budget left): the node runs again after. */
  | { kind: 'upstream'; node: string; since: number; until: number; reason: string }
  | { kind: 'children'; node: string; since: number; mode: 'flow' | 'foreach'; total: number; concurrency: number; onItemError: 'continue' | 'fail' }

/** Where a child execution belongs: its parent, the parent's node and step, its item's position. */
export interface ParentLink {
  parentId: string
  parentNode: string
  parentStep: number
  itemIndex: number
}

export interface Execution {
  id: string
  flowId: string
  revision: number
  accountId: string
  status: ExecutionStatus
  input: unknown
  result: unknown
  error: string | null
  nodeId: string | null
  nextNode: string | null
  attempt: number
  nodes: Record<string, unknown>
  steps: number
  lastNode: string | null
  createdAt: Date
  startedAt: Date | null
  completedAt: Date | null
  deadlineAt: Date
  /** The queue job that owns the execution now (null on rows older than the column). */
  jobId: string | null
  /** Set for a `flow` or `foreach` node's child. */
  parent: ParentLink | null
  depth: number
  rerunOf: string | null
  waiting: WaitState | null
  /** The trigger that started it: `{type, id, tick?}`; null for a run through the API or a child. */
  triggeredBy: TriggeredBy | null
}

/** What an execution records of the schedule or webhook that started it. */
export interface TriggeredBy {
  type: 'schedule' | 'webhook'
  id: string
  /** The schedule's tick, ISO 8601. */
  tick?: string
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LogEntry {
  timestamp: Date
  level: LogLevel
  message: string
  nodeId: string | null
  nodeType: string | null
  data: unknown
}

export interface NewLog {
  level: LogLevel
  message: string
  nodeId?: string | undefined
  nodeType?: string | undefined
  data?: unknown
  /** When it happened; stored as the line's timestamp (it is written later, with its step). Defaults to now. */
  at?: Date | undefined
}

export interface ExecutionRow {
  id: string
  flow_id: string
  revision: number
  account_id: string
  status: ExecutionStatus
  input: unknown
  result: unknown
  error: string | null
  node_id: string | null
  next_node: string | null
  attempt: number
  nodes: Record<string, unknown>
  steps: number
  last_node: string | null
  created_at: Date
  started_at: Date | null
  completed_at: Date | null
  deadline_at: Date
  job_id: string | null
  parent_id: string | null
  parent_node: string | null
  parent_step: number | null
  item_index: number | null
  depth: number
  rerun_of: string | null
  waiting: WaitState | null
  triggered_by: TriggeredBy | null
}

export const COLUMNS =
  'id, flow_id, revision, account_id, status, input, result, error, node_id, next_node, attempt, nodes, steps, last_node, created_at, started_at, completed_at, deadline_at, job_id, parent_id, parent_node, parent_step, item_index, depth, rerun_of, waiting, triggered_by'

export function toExecution(r: ExecutionRow): Execution {
  return {
    id: r.id,
    flowId: r.flow_id,
    revision: r.revision,
    accountId: r.account_id,
    status: r.status,
    input: r.input,
    result: r.result,
    error: r.error,
    nodeId: r.node_id,
    nextNode: r.next_node,
    attempt: r.attempt,
    nodes: r.nodes,
    steps: r.steps,
    lastNode: r.last_node,
    createdAt: new Date(r.created_at),
    startedAt: r.started_at === null ? null : new Date(r.started_at),
    completedAt: r.completed_at === null ? null : new Date(r.completed_at),
    deadlineAt: new Date(r.deadline_at),
    jobId: r.job_id,
    parent:
      r.parent_id === null
        ? null
        : { parentId: r.parent_id, parentNode: r.parent_node ?? '', parentStep: r.parent_step ?? 0, itemIndex: r.item_index ?? 0 },
    depth: r.depth,
    rerunOf: r.rerun_of,
    waiting: r.waiting,
    triggeredBy: r.triggered_by
  }
}

/** What a finished step writes: its node's result, where to go next, and the attempt counter. */
export interface StepUpdate {
  nodeId: string
  result: unknown
  nextNode: string | null
  attempt: number
  /** The step count and attempt the worker read: a duplicate worker's save then matches nothing. */
  expect: { steps: number; attempt: number }
  /** When the execution ends with this step. */
  final?: { status: 'completed' | 'failed'; result?: unknown; error?: string; nodeId?: string }
  /** The job that owns the execution from now on, when this step hands it to a new one. */
  jobId?: string
}

export interface NewExecution extends Pick<Execution, 'id' | 'flowId' | 'revision' | 'accountId' | 'status' | 'input'> {
  startNode: string
  deadlineAt: Date
  jobId: string
  /** A re-run: the original, and the node results carried over from it. */
  rerunOf?: string
  nodes?: Record<string, unknown>
  triggeredBy?: TriggeredBy
}
