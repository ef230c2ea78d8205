import type { ExecutionEvent } from '../flows/engine/events.js'

/** An upstream 429 on one replica: every replica's upstream budget pauses until then (ms since the epoch). */
export interface UpstreamPaused {
  type: 'upstream_paused'
  until_ms: number
}

/** What travels between replicas: execution events (WebSocket updates, cancels) and upstream budget news. */
export type ClusterMessage = ExecutionEvent | UpstreamPaused

export function isExecutionEvent(message: ClusterMessage): message is ExecutionEvent {
  return message.type !== 'upstream_paused'
}
