import type { ExecutionEvent, ExecutionStatus } from '../api/types.js'

/** A node's status as the graph shows it; `pending` is a node the execution has not reached (yet). */
export type NodeStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled'

export interface NodeLive {
  status: Exclude<NodeStatus, 'pending'>
  /** Set once a `node_completed` carried it (the API masks secrets in it). */
  result?: { value: unknown }
  error?: string
}

/** What the WebSocket has told about one execution so far. */
export interface LiveState {
  status: ExecutionStatus | undefined
  /** The node the last update named: running, waiting, or next in the queue. */
  current: string | undefined
  nodes: Readonly<Record<string, NodeLive>>
  final: Extract<ExecutionEvent, { type: 'execution_completed' | 'execution_failed' | 'execution_cancelled' }> | undefined
}

export const EMPTY_LIVE: LiveState = { status: undefined, current: undefined, nodes: {}, final: undefined }

export const FINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['completed', 'failed', 'cancelled'])

function isStatus(value: string): value is ExecutionStatus {
  return ['queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'].includes(value)
}

/** Nodes shown running or waiting lose that mark when the execution is elsewhere: they have ended since. */
function settle(nodes: Record<string, NodeLive>, except: string | undefined): Record<string, NodeLive> {
  const next: Record<string, NodeLive> = {}
  for (const [id, n] of Object.entries(nodes)) {
    if (id !== except && (n.status === 'running' || n.status === 'waiting')) continue
    next[id] = n
  }
  return next
}

/** The picture after one more event. Log events do not change it (the logs panel keeps them). */
export function reduce(state: LiveState, event: ExecutionEvent): LiveState {
  switch (event.type) {
    case 'node_completed':
      return { ...state, nodes: { ...state.nodes, [event.node_id]: { status: 'completed', result: { value: event.result } } } }
    case 'execution_update': {
      const status = isStatus(event.status) ? event.status : state.status
      const id = event.node_id
      if (id === undefined || (status !== 'running' && status !== 'waiting')) return { ...state, status, current: id }
      // a node that a loop runs again is running again: its earlier result stays until the new one replaces it
      const prev = state.nodes[id]
      const node: NodeLive = { ...(prev?.result === undefined ? {} : { result: prev.result }), status }
      return { ...state, status, current: id, nodes: { ...settle({ ...state.nodes }, id), [id]: node } }
    }
    case 'execution_completed':
      return { ...state, status: 'completed', final: event, nodes: settle({ ...state.nodes }, undefined) }
    case 'execution_failed': {
      const nodes = settle({ ...state.nodes }, undefined)
      if (event.node_id !== undefined) nodes[event.node_id] = { ...nodes[event.node_id], status: 'failed', error: event.error }
      return { ...state, status: 'failed', final: event, nodes }
    }
    case 'execution_cancelled': {
      const nodes = { ...state.nodes }
      for (const [id, n] of Object.entries(nodes)) if (n.status === 'running' || n.status === 'waiting') nodes[id] = { ...n, status: 'cancelled' }
      return { ...state, status: 'cancelled', final: event, nodes }
    }
    case 'log':
      return state
  }
}

/**
 * A new socket replays the nodes done and the current state: marks of running or waiting from before the
 * drop may be stale (the node ended meanwhile), so they go, and what the replay says stands.
 */
export function forReplay(state: LiveState): LiveState {
  return { ...state, nodes: settle({ ...state.nodes }, undefined) }
}
