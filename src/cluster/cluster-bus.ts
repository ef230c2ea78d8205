import type { ExecutionEvent, Listener } from '../flows/engine/events.js'
import { NotifyBridge, type BridgeOptions } from './notify-bridge.js'

/** Execution events between replicas: what this one publishes reaches the others' subscribers, and back. */
export interface ClusterBus {
  publish(event: ExecutionEvent): void
  /** Events other replicas published (never this one's own); returns the unsubscribe. */
  subscribe(listener: Listener): () => void
}

/** The cluster bus over PostgreSQL LISTEN/NOTIFY. */
export class NotifyBus implements ClusterBus {
  private readonly listeners = new Set<Listener>()
  private readonly bridge: NotifyBridge

  constructor(options: Omit<BridgeOptions, 'deliver'>) {
    this.bridge = new NotifyBridge({
      ...options,
      deliver: (event) => {
        for (const listener of this.listeners) listener(event)
      }
    })
  }

  start(): Promise<void> {
    return this.bridge.start()
  }

  stop(): Promise<void> {
    return this.bridge.stop()
  }

  publish(event: ExecutionEvent): void {
    this.bridge.publish(event)
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
