import type { ClusterMessage } from './cluster-message.js'
import { NotifyBridge, type BridgeOptions } from './notify-bridge.js'

export type ClusterListener = (message: ClusterMessage) => void

/**
 * Messages between replicas (execution events, an upstream 429's pause): what this one publishes reaches the
 * others' subscribers, and back. Every subscriber sees every kind of message and picks its own.
 */
export interface ClusterBus {
  publish(message: ClusterMessage): void
  /** Messages other replicas published (never this one's own); returns the unsubscribe. */
  subscribe(listener: ClusterListener): () => void
}

/** The cluster bus over PostgreSQL LISTEN/NOTIFY. */
export class NotifyBus implements ClusterBus {
  private readonly listeners = new Set<ClusterListener>()
  private readonly bridge: NotifyBridge

  constructor(options: Omit<BridgeOptions, 'deliver'>) {
    this.bridge = new NotifyBridge({
      ...options,
      deliver: (message) => {
        for (const listener of this.listeners) listener(message)
      }
    })
  }

  start(): Promise<void> {
    return this.bridge.start()
  }

  stop(): Promise<void> {
    return this.bridge.stop()
  }

  publish(message: ClusterMessage): void {
    this.bridge.publish(message)
  }

  subscribe(listener: ClusterListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
