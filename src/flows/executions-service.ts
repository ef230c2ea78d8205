import { domainError } from '../errors.js'
import type { Execution, ExecutionStatus, LogEntry, LogLevel } from '../store/execution-rows.js'
import type { ExecutionsRepository } from '../store/executions-repository.js'
import type { Owner } from '../store/flows-repository.js'
import type { ExecutionEvent, ExecutionEvents, Listener } from './engine/events.js'
import { finalEvent } from './engine/records.js'

/** The execution types the routes shape replies from (the store's, seen through this service). */
export type { Execution, ExecutionStatus, LogEntry, LogLevel } from '../store/execution-rows.js'

export interface ExecutionsServiceDeps {
  executions: ExecutionsRepository
  events: ExecutionEvents
  /** The type of a node in a flow revision (the engine's cached specs). */
  nodeType: (flowId: string, revision: number, nodeId: string) => Promise<string | undefined>
}

export interface ExecutionFilter {
  flowId?: string
  status?: ExecutionStatus
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
   * What a subscriber is told first about an execution as read: its state, naming the node running now with
   * its type as the live messages do, and its final event when it is over.
   */
  async snapshot(execution: Execution): Promise<{ state: ExecutionEvent; final: ExecutionEvent | undefined }> {
    const nodeId = execution.nextNode ?? execution.nodeId
    const nodeType = nodeId === null ? undefined : await this.deps.nodeType(execution.flowId, execution.revision, nodeId)
    const state: ExecutionEvent = {
      type: 'execution_update',
      execution_id: execution.id,
      status: execution.status,
      ...(execution.nextNode === null ? {} : { node_id: execution.nextNode, ...(nodeType === undefined ? {} : { node_type: nodeType }) }),
      timestamp: new Date().toISOString()
    }
    const final = finalEvent(execution, execution.nextNode === null ? nodeType : undefined, execution.completedAt ?? new Date())
    return { state, final }
  }
}
