import type { ExecutionEvent } from '../flows/engine/events.js'

/** An upstream 429 on one replica: every replica's upstream budget pauses until then (ms since the epoch). */
export interface UpstreamPaused {
  type: 'upstream_paused'
  until_ms: number
}

/** A successful write on one replica: every replica drops the cached answers of these operations. */
export interface UpstreamInvalidated {
  type: 'upstream_invalidated'
  operations: string[]
}

/** What travels between replicas: execution events (WebSocket updates, cancels) and upstream budget news. */
export type ClusterMessage = ExecutionEvent | UpstreamPaused | UpstreamInvalidated

export function isExecutionEvent(message: ClusterMessage): message is ExecutionEvent {
  return message.type !== 'upstream_paused' && message.type !== 'upstream_invalidated'
}
