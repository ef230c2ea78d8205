import type { JSX } from 'preact'
import { useId, useMemo } from 'preact/hooks'
import { layoutGraph, LINE_HEIGHT, type PlacedEdge, type PlacedNode } from './layout.js'
import type { FlowGraphData, NodeStatus } from './types.js'

export type { FlowGraphData, GraphEdge, GraphNode, NodeStatus } from './types.js'
export { graphOf } from './parse.js'

export interface FlowGraphProps {
  graph: FlowGraphData
  /** The accessible name of the whole drawing. */
  label: string
  statuses?: Record<string, NodeStatus>
  /** A short extra line per node (a duration, an attempt count). */
  details?: Record<string, string>
  selected?: string
  onSelect?: (nodeId: string) => void
}

/** The flow as a top-to-bottom diagram of its nodes and `next` edges; nodes are focusable and, with onSelect, buttons. */
export function FlowGraph(props: FlowGraphProps): JSX.Element {
  const { graph, label, statuses, details } = props
  const markerId = `arrow-${useId()}`
  const linesOf = (id: string): Line[] => {
    const node = graph.nodes.find((n) => n.id === id)
    const lines: Line[] = [
      { text: id, cls: 'graph-node-id' },
      { text: node?.type ?? '?', cls: 'graph-node-type' }
    ]
    const status = statuses?.[id]
    if (status !== undefined) lines.push({ text: status, cls: 'graph-node-status' })
    const detail = details?.[id]
    if (detail !== undefined && detail !== '') lines.push({ text: detail, cls: 'graph-node-detail' })
    return lines
  }
  // Status and details change the box heights, so they are part of the layout's inputs.
  const placed = useMemo(() => layoutGraph(graph, (id) => linesOf(id).map((l) => l.text)), [graph, statuses, details])
  const width = Math.max(placed.width, 1)
  const height = Math.max(placed.height, 1)
  return (
    <div class="flow-graph">
      <svg
        role="group"
        aria-label={label}
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        preserveAspectRatio="xMidYMin meet"
      >
        <defs>
          <marker id={markerId} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="graph-arrow" />
          </marker>
        </defs>
        {placed.edges.map((edge, i) => (
          <Edge key={`e${i}`} edge={edge} markerId={markerId} />
        ))}
        {placed.nodes.map((node) => (
          <Node
            key={node.id}
            node={node}
            lines={linesOf(node.id)}
            start={graph.start === node.id}
            status={statuses?.[node.id]}
            selected={props.selected === node.id}
            onSelect={props.onSelect}
          />
        ))}
      </svg>
    </div>
  )
}

function Edge({ edge, markerId }: { edge: PlacedEdge; markerId: string }) {
  const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')
  const labelWidth = edge.label.length * 7.4 + 8
  return (
    <g class="graph-edge">
      <path d={d} marker-end={`url(#${markerId})`} />
      <rect x={edge.labelAt.x - labelWidth / 2} y={edge.labelAt.y - 9} width={labelWidth} height={18} rx={4} class="graph-edge-label-bg" />
      <text x={edge.labelAt.x} y={edge.labelAt.y + 4} text-anchor="middle" class="graph-edge-label">
        {edge.label}
      </text>
    </g>
  )
}

interface Line {
  text: string
  cls: string
}

interface NodeProps {
  node: PlacedNode
  lines: Line[]
  start: boolean
  status: NodeStatus | undefined
  selected: boolean
  onSelect: ((nodeId: string) => void) | undefined
}

function Node({ node, lines, start, status, selected, onSelect }: NodeProps) {
  const select = onSelect === undefined ? undefined : () => onSelect(node.id)
  const onKeyDown = (event: KeyboardEvent) => {
    if (select === undefined || (event.key !== 'Enter' && event.key !== ' ')) return
    event.preventDefault()
    select()
  }
  const classes = ['graph-node', `graph-node-${status ?? 'none'}`, start ? 'graph-node-start' : '', selected ? 'graph-node-selected' : '']
  const left = node.x - node.width / 2
  const top = node.y - node.height / 2
  return (
    <g
      class={classes.filter(Boolean).join(' ')}
      tabindex={0}
      role={select === undefined ? 'img' : 'button'}
      aria-label={lines.map((l) => l.text).join(', ')}
      aria-pressed={select === undefined ? undefined : selected}
      onClick={select}
      onKeyDown={onKeyDown}
    >
      <rect x={left} y={top} width={node.width} height={node.height} rx={8} />
      {lines.map((line, i) => (
        <text key={i} x={node.x} y={top + 22 + i * LINE_HEIGHT} text-anchor="middle" class={line.cls} aria-hidden="true">
          {line.text}
        </text>
      ))}
    </g>
  )
}
