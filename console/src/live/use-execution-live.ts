import { useEffect, useRef, useState } from 'preact/hooks'
import type { ExecutionEvent, LogLine } from '../api/types.js'
import { session } from '../auth/session.js'
import { followExecution, type SocketState } from './execution-socket.js'
import { EMPTY_LIVE, forReplay, reduce, type LiveState } from './execution-state.js'

/** Live log lines kept in memory at most: a long loop must not grow the tab without bound. */
const MAX_LIVE_LOGS = 5_000

export interface ExecutionLive {
  live: LiveState
  socket: SocketState
  /** Log lines as the socket delivered them, oldest first. */
  logs: readonly LogLine[]
  /** Counts the sockets opened: a change past 1 means a reconnect, and lines may have been missed meanwhile. */
  opens: number
}

function logLineOf(e: Extract<ExecutionEvent, { type: 'log' }>): LogLine {
  return { timestamp: e.timestamp, level: e.level, message: e.message, node_id: e.node_id ?? null, node_type: e.node_type ?? null, data: e.data ?? null }
}

/**
 * One execution's live picture over its WebSocket, for as long as the component is mounted and the execution
 * has not ended. `onFinal` runs once the final event arrives (to read the finished execution again).
 */
export function useExecutionLive(id: string, onFinal: () => void): ExecutionLive {
  const [live, setLive] = useState<LiveState>(EMPTY_LIVE)
  const [socket, setSocket] = useState<SocketState>('connecting')
  const [logs, setLogs] = useState<readonly LogLine[]>([])
  const [opens, setOpens] = useState(0)
  const finalRef = useRef(onFinal)
  finalRef.current = onFinal

  useEffect(() => {
    setLive(EMPTY_LIVE)
    setLogs([])
    setOpens(0)
    return followExecution(id, {
      token: () => session.get()?.token,
      onState: (state) => {
        setSocket(state)
        if (state === 'open') {
          setOpens((n) => n + 1)
          setLive(forReplay)
        }
      },
      onEvent: (event) => {
        if (event.type === 'log') {
          const line = logLineOf(event)
          setLogs((prev) => (prev.length >= MAX_LIVE_LOGS ? [...prev.slice(prev.length - MAX_LIVE_LOGS + 1), line] : [...prev, line]))
          return
        }
        setLive((prev) => reduce(prev, event))
        if (event.type === 'execution_completed' || event.type === 'execution_failed' || event.type === 'execution_cancelled') finalRef.current()
      }
    })
  }, [id])

  return { live, socket, logs, opens }
}
