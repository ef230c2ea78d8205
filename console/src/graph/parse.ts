import { parse } from 'yaml'
import type { FlowGraphData, GraphEdge, GraphNode } from './types.js'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The nodes and `next` edges of a flow definition, read leniently: this draws what is being typed, so a node
 * without a type or an edge to a node that does not exist yet is drawn or skipped, never an error (the server's
 * validation says what is wrong). Undefined only when the text is not YAML or has no `nodes` map.
 */
export function graphOf(definitionYaml: string): FlowGraphData | undefined {
  let doc: unknown
  try {
    doc = parse(definitionYaml)
  } catch {
    return undefined
  }
  if (!isRecord(doc) || !isRecord(doc.nodes)) return undefined
  const nodes: GraphNode[] = []
  const edges: GraphEdge[] = []
  for (const [id, spec] of Object.entries(doc.nodes)) {
    const type = isRecord(spec) && typeof spec.type === 'string' ? spec.type : '?'
    nodes.push({ id, type })
  }
  const ids = new Set(nodes.map((n) => n.id))
  for (const [id, spec] of Object.entries(doc.nodes)) {
    if (!isRecord(spec) || !isRecord(spec.next)) continue
    for (const [label, to] of Object.entries(spec.next)) {
      // An edge to a node not (yet) written has nothing to point at; validation reports it.
      if (typeof to === 'string' && ids.has(to)) edges.push({ from: id, to, label })
    }
  }
  return { nodes, edges, start: startOf(doc, nodes, edges) }
}

/** The engine's rule (docs/flows.md): metadata.start, else the node named `start`, else the one node nothing points to. */
function startOf(doc: Record<string, unknown>, nodes: GraphNode[], edges: GraphEdge[]): string | undefined {
  const ids = new Set(nodes.map((n) => n.id))
  const declared = isRecord(doc.metadata) ? doc.metadata.start : undefined
  if (typeof declared === 'string' && ids.has(declared)) return declared
  if (ids.has('start')) return 'start'
  const targets = new Set(edges.map((e) => e.to))
  const roots = nodes.filter((n) => !targets.has(n.id))
  return roots.length === 1 ? roots[0]?.id : undefined
}
