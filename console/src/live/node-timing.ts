import type { LogLine } from '../api/types.js'

/** What the log says of one node's latest run. */
export interface NodeTiming {
  /** When its latest run started ("Node started"). */
  startedAt?: number
  /** The engine's own measure of the run, wait included ("Node completed" or "Node failed" `duration_ms`). */
  durationMs?: number
  /** How the latest run ended, once it has. */
  outcome?: 'completed' | 'failed'
  /** The error a failed run logged (it may have gone on through its `error` edge). */
  error?: string
  runs: number
}

function field(data: unknown, name: string): unknown {
  return data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[name] : undefined
}

/**
 * Per-node timing from the execution's log. The WebSocket's replayed `node_completed` events carry the time
 * of the replay, not of the completion, so they cannot time a node; the engine logs "Node started" when a node
 * begins and "Node completed" / "Node failed" with the run's `duration_ms` when it ends (a delay resumes
 * without a second "Node started", and its duration counts the wait).
 */
export function timingsOf(lines: readonly LogLine[]): Record<string, NodeTiming> {
  const out: Record<string, NodeTiming> = {}
  for (const line of lines) {
    if (line.node_id === null) continue
    const t = (out[line.node_id] ??= { runs: 0 })
    if (line.message === 'Node started') {
      const at = Date.parse(line.timestamp)
      out[line.node_id] = { runs: t.runs + 1, ...(Number.isNaN(at) ? {} : { startedAt: at }) }
    } else if (line.message === 'Node completed' || line.message === 'Node failed') {
      const ms = field(line.data, 'duration_ms')
      const error = field(line.data, 'error')
      out[line.node_id] = {
        runs: t.runs,
        ...(t.startedAt === undefined ? {} : { startedAt: t.startedAt }),
        outcome: line.message === 'Node completed' ? 'completed' : 'failed',
        ...(typeof ms === 'number' ? { durationMs: ms } : {}),
        ...(typeof error === 'string' ? { error } : {})
      }
    }
  }
  return out
}
