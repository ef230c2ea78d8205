import { EventEmitter } from 'node:events'
import type { UpstreamSignal } from '../client.js'

/**
 * An abort signal as an EventEmitter with `aborted` (undici takes it as a request's `signal`). Cheaper than an
 * AbortController on the gateway's hot path: creating one, and adding and removing a listener on an
 * EventTarget, cost microseconds per request that an emitter does not.
 */
export class AbortEmitter extends EventEmitter {
  aborted = false

  constructor() {
    super()
    // pipelined requests on one connection, or the waiters of one shared call, each add a listener
    this.setMaxListeners(0)
  }

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.emit('abort')
  }
}

/** Calls `fn` once when `signal` aborts; the returned function removes the listener. */
export function onAbort(signal: UpstreamSignal, fn: () => void): () => void {
  if (signal instanceof AbortSignal) {
    signal.addEventListener('abort', fn, { once: true })
    return () => signal.removeEventListener('abort', fn)
  }
  signal.once('abort', fn)
  return () => signal.off('abort', fn)
}

/** What an aborted wait rejects with: the signal's reason when it has one, else an AbortError. */
export function abortReason(signal: UpstreamSignal): unknown {
  return (signal instanceof AbortSignal ? signal.reason : undefined) ?? new DOMException('This operation was aborted', 'AbortError')
}
