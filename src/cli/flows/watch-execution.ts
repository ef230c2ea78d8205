import WebSocket from 'ws'
import { seg, type FlowRunnerClient } from './api-client.js'
import { FINAL_EVENTS, FINAL_STATUSES, type ExecutionDetail, type ExecutionEvent } from './types.js'

const POLL_MS = 1000

export interface ExecutionWatch {
  /** Resolves with the final status once the execution has ended. */
  ended: Promise<string>
  stop(): void
}

function finalEvent(e: ExecutionDetail): ExecutionEvent {
  const type = e.status === 'completed' ? 'execution_completed' : e.status === 'failed' ? 'execution_failed' : 'execution_cancelled'
  return {
    type,
    execution_id: e.id,
    status: e.status,
    ...(e.error === undefined ? {} : { error: e.error }),
    ...(e.node_id === undefined ? {} : { node_id: e.node_id }),
    result: e.result,
    timestamp: e.completed_at ?? new Date().toISOString()
  }
}

/**
 * Live events of one execution from `/ws/executions/:id` (the token in the Authorization header). A socket
 * that cannot open, or closes before the execution ends (a replica going away, a slow-consumer close), is
 * replaced by polling `GET /api/v1/executions/:id` once a second, which reports status changes only.
 */
export function watchExecution(client: FlowRunnerClient, id: string, onEvent: (event: ExecutionEvent) => void): ExecutionWatch {
  let stopped = false
  let socket: WebSocket | undefined
  let timer: NodeJS.Timeout | undefined
  let wake: (() => void) | undefined
  let resolveEnded!: (status: string) => void
  let rejectEnded!: (err: unknown) => void
  const ended = new Promise<string>((resolve, reject) => {
    resolveEnded = resolve
    rejectEnded = reject
  })
  let finished = false
  const finish = (status: string): void => {
    if (finished) return
    finished = true
    resolveEnded(status)
  }

  const poll = async (): Promise<void> => {
    let last = ''
    while (!stopped && !finished) {
      const e = await client.call<ExecutionDetail>('GET', `/api/v1/executions/${seg(id)}`)
      if (FINAL_STATUSES.has(e.status)) {
        onEvent(finalEvent(e))
        finish(e.status)
        return
      }
      const now = `${e.status}/${e.node_id ?? ''}`
      if (now !== last) {
        last = now
        onEvent({ type: 'execution_update', execution_id: id, status: e.status, ...(e.node_id === undefined ? {} : { node_id: e.node_id }), timestamp: new Date().toISOString() })
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        timer = setTimeout(resolve, POLL_MS)
      })
    }
  }
  const fallBack = (): void => {
    if (stopped || finished) return
    poll().catch(rejectEnded)
  }

  const url = `${client.server.replace(/^http/, 'ws')}/ws/executions/${seg(id)}`
  socket = new WebSocket(url, { headers: { authorization: `Bearer ${client.token ?? ''}` } })
  let fellBack = false
  const once = (): void => {
    if (fellBack) return
    fellBack = true
    fallBack()
  }
  socket.on('message', (data: Buffer) => {
    let event: ExecutionEvent
    try {
      event = JSON.parse(data.toString('utf8')) as ExecutionEvent
    } catch {
      return
    }
    onEvent(event)
    if (FINAL_EVENTS.has(event.type)) finish(event.status ?? event.type.replace('execution_', ''))
  })
  socket.on('unexpected-response', () => {
    socket?.terminate()
    once()
  })
  socket.on('error', once)
  socket.on('close', () => {
    if (!finished) once()
  })

  return {
    ended,
    stop: () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      wake?.()
      socket?.removeAllListeners()
      socket?.on('error', () => undefined)
      socket?.terminate()
      socket = undefined
    }
  }
}
