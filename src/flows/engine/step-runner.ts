import type { Agent } from 'undici'
import type { Execution } from '../../store/execution-rows.js'
import type { NodeSpec } from '../definition-schema.js'
import { countTemplates, EvaluationError, type Scope } from '../runtime/evaluate.js'
import type { ExpressionPool } from '../runtime/expression-pool.js'
import { NodeFailure, type NodeOutcome, type RunContext, type RunnableNode } from '../runtime/node-runtime.js'

/** Why a running node was aborted from outside: a cancel (here or on another replica), or this worker stopping. */
export type AbortReason = 'cancelled' | 'shutdown'

/** How one run of a node ended. */
export type StepResult =
  | { kind: 'ok'; outcome: NodeOutcome; durationMs: number }
  | { kind: 'failed'; failure: NodeFailure; durationMs: number }
  /** The execution's own deadline cut the node short: no retry, no error edge, the execution is over. */
  | { kind: 'deadline'; durationMs: number }
  | { kind: 'aborted'; reason: AbortReason }

export interface StepInput {
  execution: Execution
  node: NodeSpec
  type: RunnableNode
  secrets: Record<string, string>
  /** Aborted by a cancel or a shutdown (with an AbortReason). */
  controller: AbortController
  log: RunContext['log']
}

export interface StepRunnerDeps {
  /** Where the node's templates and expressions are evaluated (worker threads). */
  expressions: ExpressionPool
  http: Agent
  evercycle: RunContext['evercycle']
  maxResponseBytes: number
  /** A node without `timeout` gets this. */
  defaultNodeTimeoutMs: number
}

/** The edge to follow: a condition's own action first, then `success`, then `default`; failures take `error`. */
export function pickNext(next: Record<string, string>, outcome: { ok: true; action?: string } | { ok: false }): string | undefined {
  if (!outcome.ok) return next.error
  const candidates = [outcome.action, 'success', 'default'].filter((a): a is string => a !== undefined)
  for (const action of candidates) if (next[action] !== undefined) return next[action]
  return undefined
}

/** Exponential back-off with full jitter in [0.5, 1.5) of the nominal delay. */
function backoff(baseMs: number, attempt: number): number {
  return Math.round(baseMs * 2 ** (attempt - 1) * (0.5 + Math.random()))
}

/** How many times a node is tried in all: once unless its `retry` says more. */
export function maxAttempts(node: NodeSpec): number {
  return node.retry?.max_attempts ?? 1
}

/** How long to wait before the next attempt of a failed node, or undefined when it is not retried. */
export function retryDelay(node: NodeSpec, execution: Execution, failure: NodeFailure): number | undefined {
  if (!failure.retryable || execution.attempt >= maxAttempts(node) || Date.now() >= execution.deadlineAt.getTime()) return undefined
  return backoff(node.retry?.backoff_ms ?? 1000, execution.attempt)
}

function asFailure(err: unknown, signal: AbortSignal, cancel: AbortSignal, timeoutMs: number): NodeFailure {
  if (err instanceof NodeFailure) {
    if (signal.aborted && !cancel.aborted) return new NodeFailure(`Node timed out after ${timeoutMs} ms`, true, err.logData)
    return err
  }
  if (err instanceof EvaluationError) return new NodeFailure(err.message, false, { expression: err.expression, position: err.position })
  const e = err as { code?: string; statusCode?: number; message?: string }
  if (e.code === 'upstream_timeout' || e.code === 'upstream_unavailable') return new NodeFailure(e.message ?? 'Evercycle unavailable', true)
  if (signal.aborted && !cancel.aborted) return new NodeFailure(`Node timed out after ${timeoutMs} ms`, true)
  return new NodeFailure(e.message ?? String(err), false)
}

/** `${...}` per node's saved params (a spec is cached, so its params object is the same on every run). */
const templateCounts = new WeakMap<object, number>()
function templateCount(params: Record<string, unknown>, raw: readonly string[]): number {
  let count = templateCounts.get(params)
  if (count === undefined) {
    count = countTemplates(params, raw)
    templateCounts.set(params, count)
  }
  return count
}

/**
 * Runs one node once: resolves its params against the flow scope and runs its type under the node's timeout,
 * the execution's deadline and the cancel/shutdown signal, and says how it ended.
 */
export async function runStep(deps: StepRunnerDeps, input: StepInput): Promise<StepResult> {
  const { execution, node, type, controller } = input
  const nodeTimeoutMs = node.timeout_ms ?? deps.defaultNodeTimeoutMs
  const remainingMs = Math.max(0, execution.deadlineAt.getTime() - Date.now())
  const timeoutMs = Math.min(nodeTimeoutMs, remainingMs)
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)])
  const scope: Scope = {
    input: execution.input,
    nodes: execution.nodes,
    secrets: input.secrets,
    execution: { id: execution.id, flow_id: execution.flowId, started_at: execution.startedAt?.toISOString() ?? null, trigger: execution.triggeredBy }
  }
  const started = Date.now()
  let outcome: NodeOutcome | undefined
  let failure: NodeFailure | undefined
  try {
    const raw = type.rawExpressions ?? []
    const budget = deps.expressions.budget()
    const templates = templateCount(node.params, raw)
    const params = (
      templates === 0 ? node.params : await deps.expressions.resolveParams(node.params, raw, templates, scope, budget, signal)
    ) as Record<string, unknown>
    outcome = await type.run(params, {
      signal,
      timeoutMs,
      remainingMs,
      scope,
      evaluate: (source) => deps.expressions.evaluate(source, scope, budget, signal),
      resolveEach: async (template, items) => {
        const count = countTemplates(template)
        if (count === 0) return items.map(() => template)
        // a budget of its own, the node's for every thousand items
        const each = deps.expressions.budget(Math.max(1, Math.ceil(items.length / 1000)))
        return deps.expressions.resolveEach(template, items, count, scope, each, signal)
      },
      http: deps.http,
      maxResponseBytes: deps.maxResponseBytes,
      evercycle: deps.evercycle,
      log: input.log
    })
  } catch (err) {
    failure = asFailure(err, signal, controller.signal, timeoutMs)
  }
  if (controller.signal.aborted) return { kind: 'aborted', reason: controller.signal.reason as AbortReason }

  const durationMs = Date.now() - started
  if (outcome !== undefined) return { kind: 'ok', outcome, durationMs }
  // a timer may fire a millisecond before the wall clock reaches the deadline: a node stopped by the timeout
  // that was the execution's remaining time was cut by the deadline, whatever Date.now() says
  const cutByDeadline = remainingMs < nodeTimeoutMs && signal.aborted && !controller.signal.aborted
  if (cutByDeadline || Date.now() >= execution.deadlineAt.getTime()) return { kind: 'deadline', durationMs }
  return { kind: 'failed', failure: failure ?? new NodeFailure('Node failed', false), durationMs }
}
