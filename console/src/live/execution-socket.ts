import type { ExecutionEvent } from '../api/types.js'

export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface ExecutionSocketOptions {
  /** Read at each (re)connect: the session refreshes its token, and a reconnect must offer the current one. */
  token: () => string | undefined
  onEvent: (event: ExecutionEvent) => void
  /** Told on every change; `open` again after a reconnect, when the server replays the picture first. */
  onState?: (state: SocketState) => void
}

export const FINAL_EVENT_TYPES: ReadonlySet<ExecutionEvent['type']> = new Set(['execution_completed', 'execution_failed', 'execution_cancelled'])

const FIRST_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000

/** The server's own close for "the execution is over" (after its final event). */
const NORMAL_CLOSURE = 1000

function socketUrl(id: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${location.host}/ws/executions/${encodeURIComponent(id)}`
}

function parse(data: unknown): ExecutionEvent | undefined {
  if (typeof data !== 'string') return undefined
  try {
    const value = JSON.parse(data) as unknown
    return value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string' ? (value as ExecutionEvent) : undefined
  } catch {
    return undefined
  }
}

/**
 * Follows one execution over `/ws/executions/:id` until its final event. The token travels as the
 * `bearer, <token>` subprotocol pair (browsers cannot set an Authorization header on a WebSocket, and a URL
 * would put it in logs and history). A dropped socket is reopened with a growing, jittered delay; every new
 * socket first gets a `node_completed` per node already done and then the current state, so the listener
 * rebuilds its picture from what it is sent. Returns the function that stops following.
 */
export function followExecution(id: string, options: ExecutionSocketOptions): () => void {
  let socket: WebSocket | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let failures = 0

  const setState = (state: SocketState): void => options.onState?.(state)

  const finish = (): void => {
    stopped = true
    clearTimeout(timer)
    setState('closed')
  }

  const retry = (): void => {
    if (stopped) return
    setState('reconnecting')
    // full jitter: many tabs dropped by one server restart do not all come back in the same instant
    const cap = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures)
    failures += 1
    timer = setTimeout(connect, cap / 2 + Math.random() * (cap / 2))
  }

  function connect(): void {
    if (stopped) return
    const token = options.token()
    if (token === undefined) return finish()
    setState(failures === 0 ? 'connecting' : 'reconnecting')
    const ws = new WebSocket(socketUrl(id), ['bearer', token])
    socket = ws
    ws.onopen = () => {
      failures = 0
      setState('open')
    }
    ws.onmessage = (message) => {
      const event = parse(message.data)
      if (event === undefined || stopped) return
      options.onEvent(event)
      if (FINAL_EVENT_TYPES.has(event.type)) finish()
    }
    ws.onclose = (close) => {
      if (socket !== ws) return
      socket = undefined
      // 1000 comes only after the final event; anything else (a restart's 1001, a slow consumer's 1013, a
      // refused upgrade's 1006) leaves the execution unfinished as far as this page knows
      if (close.code === NORMAL_CLOSURE) finish()
      else retry()
    }
  }

  connect()
  return () => {
    stopped = true
    clearTimeout(timer)
    const ws = socket
    socket = undefined
    ws?.close(NORMAL_CLOSURE, 'page left')
  }
}
