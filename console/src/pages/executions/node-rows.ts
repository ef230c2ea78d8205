import type { ExecutionDetail } from '../../api/types.js'
import type { FlowGraphData, NodeStatus } from '../../graph/flow-graph.js'
import type { LiveState } from '../../live/execution-state.js'
import type { NodeTiming } from '../../live/node-timing.js'

/** One node of the execution's flow revision, as far as the socket and the log tell. */
export interface NodeRow {
  id: string
  type: string
  status: NodeStatus
  result?: { value: unknown }
  error?: string
  /** The engine's duration of its latest run, once ended; or start to cancel for a cancelled one. */
  durationMs?: number
  /** When the run going on now started (for a running or waiting node). */
  since?: number
  runs: number
}

function statusOf(id: string, live: LiveState, detail: ExecutionDetail | undefined, t: NodeTiming | undefined): { status: NodeStatus; error?: string } {
  const l = live.nodes[id]
  if (l !== undefined) {
    // completed through its `error` edge: the node failed, and the execution went on
    if (l.status === 'completed' && t?.outcome === 'failed') return { status: 'failed', ...(t.error === undefined ? {} : { error: t.error }) }
    if (l.status === 'failed') {
      const error = l.error ?? t?.error
      return { status: 'failed', ...(error === undefined ? {} : { error }) }
    }
    // the page read the execution as cancelled before the socket's final event came
    if ((l.status === 'running' || l.status === 'waiting') && detail?.status === 'cancelled') return { status: 'cancelled' }
    return { status: l.status }
  }
  if (detail?.status === 'failed' && detail.node_id === id) return { status: 'failed', ...(detail.error === undefined ? {} : { error: detail.error }) }
  // the socket has told nothing of it (not connected yet, or unable to): the log still knows how it ended
  if (t?.outcome !== undefined) return { status: t.outcome, ...(t.outcome === 'failed' && t.error !== undefined ? { error: t.error } : {}) }
  return { status: 'pending' }
}

export function nodeRows(graph: FlowGraphData, live: LiveState, detail: ExecutionDetail | undefined, timings: Record<string, NodeTiming>): NodeRow[] {
  return graph.nodes.map((node) => {
    const t = timings[node.id]
    const { status, error } = statusOf(node.id, live, detail, t)
    const result = live.nodes[node.id]?.result
    const row: NodeRow = { id: node.id, type: node.type, status, runs: t?.runs ?? 0, ...(result === undefined ? {} : { result }), ...(error === undefined ? {} : { error }) }
    if (status === 'running' || status === 'waiting') {
      if (t?.startedAt !== undefined) row.since = t.startedAt
    } else if (status === 'cancelled') {
      const end = detail?.completed_at == null ? undefined : Date.parse(detail.completed_at)
      if (t?.startedAt !== undefined && end !== undefined) row.durationMs = Math.max(0, end - t.startedAt)
    } else if (t?.durationMs !== undefined && t.outcome !== undefined) {
      row.durationMs = t.durationMs
    }
    return row
  })
}
