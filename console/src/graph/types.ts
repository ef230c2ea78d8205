export type NodeStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled'

export interface GraphNode {
  id: string
  type: string
}

/** `label` is the `next` action that leads from `from` to `to` (default, true, false, on_error…). */
export interface GraphEdge {
  from: string
  to: string
  label: string
}

export interface FlowGraphData {
  nodes: GraphNode[]
  edges: GraphEdge[]
  /** The node the engine starts at, when the definition says (or implies) one. */
  start?: string
}
