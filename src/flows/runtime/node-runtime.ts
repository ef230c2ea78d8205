import type { Agent } from 'undici'
import type { Scope } from './evaluate.js'

/** What a running node may use: its abort signal, the flow scope, the guarded HTTP agent, Evercycle. */
export interface RunContext {
  /** Aborted on cancel, on the node's timeout, and at the execution deadline. */
  signal: AbortSignal
  timeoutMs: number
  /** Milliseconds left before the execution deadline. */
  remainingMs: number
  scope: Scope
  /** Evaluates a JSONata expression over `scope` in an expression worker, within the node's budget. */
  evaluate: (source: string) => Promise<unknown>
  /** Resolves the `${...}` in `template` once per item, with `item` and `index` in scope (a `foreach`'s inputs). */
  resolveEach: (template: unknown, items: readonly unknown[]) => Promise<unknown[]>
  http: Agent
  maxResponseBytes: number
  /** Calls a gateway registry operation; `params` fill its path parameters wherever it takes them from. */
  evercycle: (
    operation: string,
    input: { query?: Record<string, unknown> | undefined; body?: Record<string, unknown> | undefined; params?: Record<string, unknown> | undefined },
    signal: AbortSignal,
    /** The calling flow (`scope.execution.flow_id`): its owner's role decides which operations it may call. */
    flowId: string
  ) => Promise<{ status_code: number; body: unknown }>
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void
}

export interface NodeOutcome {
  result: unknown
  /** The `next` entry to follow; `default` when absent. */
  action?: string
  /** Continue only after this many milliseconds (a delay): the wait holds no worker. */
  deferMs?: number
  /** Extra log data for the node-completed line (e.g. status_code, url). */
  logData?: Record<string, unknown>
  /** Start child executions and wait for them: the node's result is theirs (`result` is then ignored). */
  spawn?: SpawnRequest
}

/** Child executions a `flow` or `foreach` node starts: one per input, of the flow `flow` (an id). */
export interface SpawnRequest {
  mode: 'flow' | 'foreach'
  flow: string
  inputs: unknown[]
  /** Children running at once. */
  concurrency: number
  /** `fail`: the first child that does not complete cancels the rest and fails the node. */
  onItemError: 'continue' | 'fail'
}

/** What the engine needs of a node type (nodes/node-type.ts defines the whole type: schema, checks). */
export interface RunnableNode {
  /** Params holding raw JSONata (not `${...}` templates), left for the type itself to evaluate. */
  readonly rawExpressions?: readonly string[] | undefined
  run(params: Record<string, unknown>, ctx: RunContext): Promise<NodeOutcome>
}

/** A node failed. `retryable` failures (network, timeouts, 429, 5xx) are retried per the node's `retry`. */
export class NodeFailure extends Error {
  override name = 'NodeFailure'
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly logData?: Record<string, unknown>
  ) {
    super(message)
  }
}

/**
 * Not a failure: the node must wait `waitMs` and then run again, at the same attempt (Evercycle answered 429,
 * its circuit is open, or the upstream budget has nothing left now). The engine waits holding no worker, as for
 * a delay; the wait counts as neither an attempt nor a back-off.
 */
export class NodeWait extends NodeFailure {
  override name = 'NodeWait'
  constructor(
    message: string,
    readonly waitMs: number,
    /** Why, as the wait state records it: `rate_limited`, `circuit_open`, `busy`. */
    readonly reason: string,
    logData?: Record<string, unknown>
  ) {
    super(message, true, logData)
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500
}
