import { Graph, layout, type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre'
import type { FlowGraphData } from './types.js'

export interface Point {
  x: number
  y: number
}

export interface PlacedNode {
  id: string
  type: string
  /** Centre, as dagre gives it. */
  x: number
  y: number
  width: number
  height: number
}

export interface PlacedEdge {
  from: string
  to: string
  label: string
  points: Point[]
  /** Where dagre left room for the label. */
  labelAt: Point
}

export interface Layout {
  nodes: PlacedNode[]
  edges: PlacedEdge[]
  width: number
  height: number
}

/** SVG text is not measured before layout (that would need a render pass); a monospace-ish estimate is close enough. */
const CHAR_WIDTH = 7.4
const LINE_HEIGHT = 17

function textWidth(text: string): number {
  return text.length * CHAR_WIDTH
}

/** Top-to-bottom layout of the flow; `lines(id)` is how many text lines each node box must hold. */
export function layoutGraph(graph: FlowGraphData, lines: (id: string) => string[]): Layout {
  const g = new Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true, directed: true })
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 56, edgesep: 20, marginx: 12, marginy: 12 })
  for (const node of graph.nodes) {
    const text = lines(node.id)
    const widest = Math.max(...text.map(textWidth), 90)
    g.setNode(node.id, { width: Math.round(widest + 28), height: text.length * LINE_HEIGHT + 18 })
  }
  graph.edges.forEach((edge, i) => {
    // Named, so that a condition's "true" and "false" to the same node are two edges.
    g.setEdge(edge.from, edge.to, { width: textWidth(edge.label) + 10, height: 18, labelpos: 'c' }, `${i}`)
  })
  layout(g)
  const nodes = graph.nodes.map((n) => {
    const placed = g.node(n.id)
    return { id: n.id, type: n.type, x: placed.x ?? 0, y: placed.y ?? 0, width: placed.width, height: placed.height }
  })
  const edges = graph.edges.map((e, i) => {
    const placed = g.edge(e.from, e.to, `${i}`)
    const points = placed.points ?? []
    const mid = points[Math.floor(points.length / 2)] ?? { x: 0, y: 0 }
    return { ...e, points, labelAt: { x: placed.x ?? mid.x, y: placed.y ?? mid.y } }
  })
  const label = g.graph()
  return { nodes, edges, width: label.width ?? 0, height: label.height ?? 0 }
}

export { LINE_HEIGHT }
