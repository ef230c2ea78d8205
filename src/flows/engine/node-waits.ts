import type { Execution, NewLog, WaitState } from '../../store/execution-rows.js'
import type { NodeSpec } from '../definition-schema.js'
import { NodeFailure, type NodeOutcome } from '../runtime/node-runtime.js'
import type { Children } from './children.js'
import type { ExecutionEvent } from './events.js'
import type { StepResult } from './step-runner.js'
import type { Transitions } from './transitions.js'

/** A node run that ended one way or the other (not aborted). */
export type Finished = Extract<StepResult, { kind: 'ok' | 'failed' }>

/** Records a log line of the node (stored with its step) and returns its event. */
export type RecordLine = (level: NewLog['level'], message: string, data?: Record<string, unknown>) => ExecutionEvent

/** The end of a node's wait: a delay's result, or what its children gave; its duration counts the wait. */
export async function resumeWait(children: Children, execution: Execution, waited: Exclude<WaitState, { kind: 'retry' | 'upstream' }>): Promise<Finished> {
  const durationMs = Date.now() - waited.since
  if (waited.kind === 'delay') return { kind: 'ok', outcome: { result: { delayed_ms: waited.until - waited.since } }, durationMs }
  const collected = await children.collect(execution, waited)
  return collected.ok ? { kind: 'ok', outcome: collected.outcome, durationMs } : { kind: 'failed', failure: collected.failure, durationMs }
}

/**
 * Starts a node's children and leaves the execution waiting for them ('waiting': the job is completed;
 * 'lost': the execution was cancelled meanwhile and nothing was saved). When there is nothing to wait for (no
 * items, or all reused from the execution re-run), or the spawn is refused (depth, unknown flow), the node's
 * outcome is returned instead.
 */
export async function startChildren(
  deps: { children: Children; transitions: Transitions },
  execution: Execution,
  at: { nodeId: string; node: NodeSpec; jobId: string; pending: NewLog[] },
  outcome: NodeOutcome,
  record: RecordLine
): Promise<Finished | 'waiting' | 'lost'> {
  const request = outcome.spawn
  const started = Date.now()
  if (request === undefined) return { kind: 'ok', outcome, durationMs: 0 }
  let prepared
  try {
    prepared = await deps.children.prepare(execution, at.nodeId, request)
  } catch (err) {
    if (err instanceof NodeFailure) return { kind: 'failed', failure: err, durationMs: Date.now() - started }
    throw err
  }
  const line = record('info', `Starting ${request.inputs.length} child execution${request.inputs.length === 1 ? '' : 's'}`, {
    flow_id: prepared.create.flowId,
    items: request.inputs.length,
    concurrency: request.concurrency
  })
  const waiting = await deps.transitions.waitForChildren(execution, at.node.type, prepared, at.jobId, at.pending, line)
  return waiting === 'none' ? resumeWait(deps.children, execution, prepared.state) : waiting
}
