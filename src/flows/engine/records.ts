import type { Execution, LogLevel, NewLog } from '../../store/execution-rows.js'
import { checkJsonBounds } from '../../util/json-bounds.js'
import type { ExecutionEvent } from './events.js'

/** Where a log line belongs: its node (absent for lines of the execution as a whole) and extra data. */
export interface LineContext {
  nodeId?: string | undefined
  nodeType?: string | undefined
  data?: Record<string, unknown> | undefined
}

/** A log line as stored and as published, built together so the two never disagree. */
export interface LogLine {
  row: NewLog
  event: ExecutionEvent
}

/** A log line of an execution: its row (stored with the state change it describes) and its `log` event. */
export function logLine(executionId: string, level: LogLevel, message: string, context: LineContext = {}): LogLine {
  const { nodeId, nodeType, data } = context
  const at = new Date()
  return {
    row: { level, message, nodeId, nodeType, ...(data === undefined ? {} : { data }), at },
    event: {
      type: 'log',
      execution_id: executionId,
      level,
      message,
      ...(nodeId === undefined ? {} : { node_id: nodeId }),
      ...(nodeType === undefined ? {} : { node_type: nodeType }),
      ...(data === undefined ? {} : { data }),
      timestamp: at.toISOString()
    }
  }
}

/**
 * A log line's data, or a short marker in its place when it is larger or deeper than a line may store (measured
 * without serialising it, at a cost bounded by the limits).
 */
export function boundLogData(data: Record<string, unknown>, limits: { maxLogDataBytes: number; maxDepth: number }): Record<string, unknown> {
  const verdict = checkJsonBounds(data, { maxBytes: limits.maxLogDataBytes, maxDepth: limits.maxDepth }, 'Log data')
  return verdict.ok ? data : { truncated: true, reason: verdict.message }
}

/**
 * The event that ends an execution's stream, from its final state (undefined while it is live): what the
 * engine publishes as it ends one, and what a subscriber arriving later is sent instead.
 */
export function finalEvent(
  e: Pick<Execution, 'id' | 'status' | 'result' | 'error' | 'nodeId'>,
  nodeType: string | undefined,
  at: Date
): ExecutionEvent | undefined {
  const timestamp = at.toISOString()
  if (e.status === 'completed') return { type: 'execution_completed', execution_id: e.id, status: 'completed', result: e.result ?? null, timestamp }
  if (e.status === 'cancelled') return { type: 'execution_cancelled', execution_id: e.id, status: 'cancelled', timestamp }
  if (e.status === 'failed') {
    return {
      type: 'execution_failed',
      execution_id: e.id,
      status: 'failed',
      error: e.error ?? 'failed',
      ...(e.nodeId === null ? {} : { node_id: e.nodeId }),
      ...(nodeType === undefined ? {} : { node_type: nodeType }),
      timestamp
    }
  }
  return undefined
}
