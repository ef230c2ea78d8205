import { domainError } from '../errors.js'
import type { ChildCounts, ChildrenRepository } from '../store/children-repository.js'
import { TERMINAL, type Execution, type ExecutionStatus, type LogEntry, type LogLevel } from '../store/execution-rows.js'
import type { ExecutionsRepository } from '../store/executions-repository.js'
import type { Owner } from '../store/flows-repository.js'
import type { ExecutionEvent, ExecutionEvents, Listener } from './engine/events.js'
import { finalEvent } from './engine/records.js'
import { planRerun, type RerunPlan, type RerunRequest, type RerunSources } from './rerun-plan.js'

/** The execution types the routes shape replies from (the store's, seen through this service). */
export type { Execution, ExecutionStatus, LogEntry, LogLevel } from '../store/execution-rows.js'
export type { ChildCounts } from '../store/children-repository.js'

export interface ExecutionsServiceDeps {
  executions: ExecutionsRepository
  events: ExecutionEvents
  children: ChildrenRepository
  /** The type of a node in a flow revision (the engine's cached specs). */
  nodeType: (flowId: string, revision: number, nodeId: string) => Promise<string | undefined>
  /** A flow's current revision. */
  latestRevision: (flowId: string) => Promise<number>
}

export interface ExecutionFilter {
  flowId?: string
  status?: ExecutionStatus
  /** That execution's children. */
  parentId?: string
  limit: number
  offset: number
}

/** A live subscription to one execution, opened before its state was read so no event falls between. */
export interface Watch {
  execution: Execution
  unsubscribe: () => void
}

/**
 * Reading executions for their owner (or an admin, `owner` null): one execution, a page of them, its logs,
 * and its live events. Another account's execution does not exist.
 */
export class ExecutionsService {
  constructor(private readonly deps: ExecutionsServiceDeps) {}

  async get(id: string, owner: Owner): Promise<Execution> {
    const execution = await this.deps.executions.get(id, owner)
    if (execution === undefined) throw domainError('not_found', 'Execution not found')
    return execution
  }

  /** How the execution's children (of the last node that started any) stand; undefined when it has none. */
  children(id: string): Promise<ChildCounts | undefined> {
    return this.deps.children.latestCounts(id)
  }

  /**
   * The execution once it has ended, waiting up to `ms` for it (on its events, holding nothing but this
   * subscription); undefined when it is still live then, or `signal` (the client went away) fired first.
   */
  async waitFor(id: string, owner: Owner, ms: number, signal: AbortSignal): Promise<Execution | undefined> {
    let ended: () => void = () => undefined
    const over = new Promise<void>((resolve) => (ended = resolve))
    const watch = await this.watch(id, owner, (event) => {
      if (event.type === 'execution_completed' || event.type === 'execution_failed' || event.type === 'execution_cancelled') ended()
    })
    const timer = setTimeout(ended, ms)
    signal.addEventListener('abort', ended, { once: true })
    try {
      if (TERMINAL.has(watch.execution.status)) return watch.execution
      await over
      if (signal.aborted) return undefined
      const now = await this.get(id, owner)
      return TERMINAL.has(now.status) ? now : undefined
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', ended)
      watch.unsubscribe()
    }
  }

  /** The original execution and how to run it again (where from, with what). */
  async planRerun(id: string, owner: Owner, request: RerunRequest): Promise<{ original: Execution; plan: RerunPlan }> {
    const original = await this.get(id, owner)
    const sources: RerunSources = {
      latestRevision: this.deps.latestRevision,
      hasNode: async (flowId, revision, nodeId) => (await this.deps.nodeType(flowId, revision, nodeId)) !== undefined,
      nodeOrder: (executionId) => this.deps.executions.nodeOrder(executionId),
      nodeWithFailedChildren: (executionId) => this.deps.children.nodeWithFailedChildren(executionId)
    }
    return { original, plan: await planRerun(sources, original, request) }
  }

  /** Newest first. */
  list(owner: Owner, filter: ExecutionFilter): Promise<{ executions: Execution[]; total: number }> {
    return this.deps.executions.list({ owner, ...filter })
  }

  /** The execution's log lines in order, from `level` up. */
  async logs(id: string, owner: Owner, filter: { level?: LogLevel; limit: number; offset: number }): Promise<{ logs: LogEntry[]; total: number }> {
    await this.get(id, owner)
    return this.deps.executions.logs(id, filter)
  }

  /**
   * Subscribes `listener` to the execution's events, then reads its state (checking ownership): whatever
   * happens after that read reaches the listener. Not found leaves no subscription behind.
   */
  async watch(id: string, owner: Owner, listener: Listener): Promise<Watch> {
    const unsubscribe = this.deps.events.subscribe(id, listener)
    let execution: Execution | undefined
    try {
      execution = await this.deps.executions.get(id, owner)
    } finally {
      if (execution === undefined) unsubscribe()
    }
    if (execution === undefined) throw domainError('not_found', 'Execution not found')
    return { execution, unsubscribe }
  }

  /**
   * What a subscriber is told first about an execution as read: a `node_completed` for each node that had
   * completed, with its result (the latest, for a node a loop ran again; not in the order they ran: the results
   * are a jsonb object), so a late subscriber sees the nodes it missed; then
   * its state, naming the node running now with its type as the live messages do; and its final event when it
   * is over.
   */
  async snapshot(execution: Execution): Promise<{ completed: ExecutionEvent[]; state: ExecutionEvent; final: ExecutionEvent | undefined }> {
    const typeOf = (nodeId: string): Promise<string | undefined> => this.deps.nodeType(execution.flowId, execution.revision, nodeId)
    const timestamp = new Date().toISOString()
    const completed: ExecutionEvent[] = []
    for (const [nodeId, result] of Object.entries(execution.nodes)) {
      completed.push({ type: 'node_completed', execution_id: execution.id, node_id: nodeId, node_type: (await typeOf(nodeId)) ?? 'unknown', result, timestamp })
    }
    const nodeId = execution.nextNode ?? execution.nodeId
    const nodeType = nodeId === null ? undefined : await typeOf(nodeId)
    const state: ExecutionEvent = {
      type: 'execution_update',
      execution_id: execution.id,
      status: execution.status,
      ...(execution.nextNode === null ? {} : { node_id: execution.nextNode, ...(nodeType === undefined ? {} : { node_type: nodeType }) }),
      timestamp
    }
    const final = finalEvent(execution, execution.nextNode === null ? nodeType : undefined, execution.completedAt ?? new Date())
    return { completed, state, final }
  }
}
