import { EventEmitter } from 'node:events'

/** The WebSocket messages, exactly as the API reference documents them (plus `execution_cancelled`). */
export type ExecutionEvent =
  | { type: 'execution_update'; execution_id: string; status: string; node_id?: string; node_type?: string; timestamp: string }
  | { type: 'node_completed'; execution_id: string; node_id: string; node_type: string; result: unknown; timestamp: string }
  | { type: 'execution_completed'; execution_id: string; status: 'completed'; result: unknown; timestamp: string }
  | { type: 'execution_failed'; execution_id: string; status: 'failed'; error: string; node_id?: string; node_type?: string; timestamp: string }
  | { type: 'execution_cancelled'; execution_id: string; status: 'cancelled'; timestamp: string }
  | { type: 'log'; execution_id: string; level: string; message: string; node_id?: string; node_type?: string; data?: unknown; timestamp: string }

export const FINAL_EVENTS = new Set(['execution_completed', 'execution_failed', 'execution_cancelled'])

export type Listener = (event: ExecutionEvent) => void

/** The channel every event is also emitted on (execution ids start with `exec-`, so it cannot clash). */
const ALL = '*'

export interface ExecutionEventsOptions {
  /** Called for every locally published event (to forward it to other replicas). */
  relay?: ((event: ExecutionEvent) => void) | undefined
}

/**
 * Fan-out of execution events to subscribers in this process. Events are published after the state they
 * describe is committed. A transport across replicas plugs in through `relay`, given when it is built.
 */
export class ExecutionEvents {
  private readonly emitter = new EventEmitter()
  private readonly relay: ((event: ExecutionEvent) => void) | undefined

  constructor(options: ExecutionEventsOptions = {}) {
    this.emitter.setMaxListeners(0)
    this.relay = options.relay
  }

  publish(event: ExecutionEvent): void {
    this.deliver(event)
    this.relay?.(event)
  }

  /** Delivers an event that arrived from another replica. */
  deliver(event: ExecutionEvent): void {
    this.emitter.emit(event.execution_id, event)
    this.emitter.emit(ALL, event)
  }

  subscribe(executionId: string, listener: Listener): () => void {
    this.emitter.on(executionId, listener)
    return () => this.emitter.off(executionId, listener)
  }

  /** Every execution's events (metrics, audit, tests that must not miss the first event of a run). */
  subscribeAll(listener: Listener): () => void {
    return this.subscribe(ALL, listener)
  }

  subscriberCount(): number {
    return this.emitter.eventNames().reduce((n, name) => n + this.emitter.listenerCount(name), 0)
  }
}
