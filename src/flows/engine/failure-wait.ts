import type { Execution, LogLevel, WaitState } from '../../store/execution-rows.js'
import type { NodeSpec } from '../definition-schema.js'
import { checkJsonBounds } from '../../util/json-bounds.js'
import { NodeFailure, NodeWait } from '../runtime/node-runtime.js'
import { maxAttempts, retryDelay } from './step-runner.js'

/** A wait a failed node takes instead of failing, with the log line that says so. */
export interface FailureWait {
  state: Extract<WaitState, { kind: 'retry' | 'upstream' }>
  waitMs: number
  line: { level: LogLevel; message: string; data: Record<string, unknown> }
}

/**
 * What a failed node waits for before it runs again, or undefined when it fails now. Evercycle asking to wait
 * (a 429, its circuit open, no budget) is not an attempt: the node runs again after it whatever its `retry`
 * says; any other retryable failure waits its back-off while attempts remain.
 */
export function failureWait(execution: Execution, nodeId: string, node: NodeSpec, failure: NodeFailure, message: string): FailureWait | undefined {
  const since = Date.now()
  if (failure instanceof NodeWait) {
    return {
      state: { kind: 'upstream', node: nodeId, since, until: since + failure.waitMs, reason: failure.reason },
      waitMs: failure.waitMs,
      line: { level: 'info', message: `Waiting ${failure.waitMs} ms for Evercycle: ${message}`, data: { wait_ms: failure.waitMs, reason: failure.reason, ...failure.logData } }
    }
  }
  const wait = retryDelay(node, execution, failure)
  if (wait === undefined) return undefined
  return {
    state: { kind: 'retry', node: nodeId, since, until: since + wait },
    waitMs: wait,
    line: {
      level: 'warn',
      message: `Attempt ${execution.attempt} of ${maxAttempts(node)} failed: ${message}; retrying in ${wait} ms`,
      data: { attempt: execution.attempt, error: message, retry_in_ms: wait, ...failure.logData }
    }
  }
}

/** The wait an execution resumes at this node without running it again (a delay, children), if any. */
export function resumableWait(execution: Execution, nodeId: string): Exclude<WaitState, { kind: 'retry' | 'upstream' }> | undefined {
  const waiting = execution.waiting
  if (waiting === null || waiting.node !== nodeId || waiting.kind === 'retry' || waiting.kind === 'upstream') return undefined
  return waiting
}

/** The failure of a node whose result is too large or too deep to store (the execution's result too, when it is the last). */
export function oversized(result: unknown, limits: { maxResultBytes: number; maxDepth: number }): NodeFailure | undefined {
  const verdict = checkJsonBounds(result ?? null, { maxBytes: limits.maxResultBytes, maxDepth: limits.maxDepth }, 'Node result')
  return verdict.ok ? undefined : new NodeFailure(`${verdict.code}: ${verdict.message}`, false, { code: verdict.code })
}
