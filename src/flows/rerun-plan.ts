import { domainError } from '../errors.js'
import type { Execution } from '../store/execution-rows.js'
import { TERMINAL } from '../store/execution-rows.js'

/** What a re-run asks for (`POST /executions/{id}/rerun`). */
export interface RerunRequest {
  /** "failed" (the default): where the original failed; otherwise a node id. */
  from?: string | undefined
  /** Replaces the original's input. */
  input?: unknown
  /** "pinned" (the default) keeps the original's flow revision; "latest" runs the flow's current one. */
  version?: 'pinned' | 'latest' | undefined
}

export interface RerunPlan {
  revision: number
  startNode: string
  /** The original's results of the nodes that completed before the start node. */
  nodes: Record<string, unknown>
  input: unknown
}

export interface RerunSources {
  /** The flow's current revision. */
  latestRevision: (flowId: string) => Promise<number>
  /** Whether a revision of the flow has the node. */
  hasNode: (flowId: string, revision: number, nodeId: string) => Promise<boolean>
  /** The execution's nodes in the order they started and completed (from its log). */
  nodeOrder: (executionId: string) => Promise<Array<{ nodeId: string; event: 'started' | 'completed' }>>
  /** The latest node of the execution whose children did not all complete (a `foreach` with failed items). */
  nodeWithFailedChildren: (executionId: string) => Promise<string | undefined>
}

/** Where a re-run starts when asked to start "from failed": the node that failed or was cut short. */
async function failedNode(sources: RerunSources, original: Execution, order: Array<{ nodeId: string; event: string }>): Promise<string | undefined> {
  if (original.status !== 'completed') {
    if (original.nodeId !== null) return original.nodeId
    // failed without a node (its deadline, the step limit): the last node it started
    return order.filter((o) => o.event === 'started').at(-1)?.nodeId
  }
  return sources.nodeWithFailedChildren(original.id)
}

/**
 * Plans a re-run of an ended execution: its revision, the node it starts at, and the node results it carries
 * over (those that completed before the start node first started in the original; all of them when it never
 * started there).
 */
export async function planRerun(sources: RerunSources, original: Execution, request: RerunRequest): Promise<RerunPlan> {
  if (!TERMINAL.has(original.status)) throw domainError('conflict', `Execution is still ${original.status}: cancel it or wait for it to end`)
  const revision = request.version === 'latest' ? await sources.latestRevision(original.flowId) : original.revision
  const order = await sources.nodeOrder(original.id)
  const from = request.from ?? 'failed'
  const startNode = from === 'failed' ? await failedNode(sources, original, order) : from
  if (startNode === undefined) {
    throw domainError('conflict', 'Nothing failed in this execution: give "from" a node id to re-run from there')
  }
  if (!(await sources.hasNode(original.flowId, revision, startNode))) {
    throw domainError('invalid_request', `Node ${startNode} is not in version ${revision} of the flow`, { details: { field: 'from' } })
  }
  const before = new Set<string>()
  for (const o of order) {
    if (o.nodeId === startNode && o.event === 'started') break
    if (o.event === 'completed') before.add(o.nodeId)
  }
  const nodes: Record<string, unknown> = {}
  for (const [id, result] of Object.entries(original.nodes)) if (before.has(id) && id !== startNode) nodes[id] = result
  return { revision, startNode, nodes, input: request.input ?? original.input }
}
