import { FINAL_EVENTS, type ExecutionEvent } from '../../src/flows/engine/events.js'
import WebSocket from 'ws'
import type { ExecutionReply, LogLine } from '../../dev/demo/flowrunner-api.js'
import type { FlowRunner } from './flowrunner.js'

/** The API's reply shapes, as the demo's client has them. */
export type { ExecutionReply, LogLine }

export async function createFlow(fr: FlowRunner, token: string, definition: string): Promise<string> {
  const res = await fr.request('POST', '/api/v1/flows', { token, body: { definition } })
  if (res.statusCode !== 201) throw new Error(`flow create failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { id: string }).id
}

export async function runFlow(fr: FlowRunner, token: string, flowId: string, input: unknown = {}): Promise<string> {
  const res = await fr.request('POST', `/api/v1/flows/${flowId}/run`, { token, body: { input } })
  if (res.statusCode !== 201) throw new Error(`run failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { execution_id: string }).execution_id
}

export async function getExecution(fr: FlowRunner, token: string, id: string): Promise<ExecutionReply> {
  return (await fr.request('GET', `/api/v1/executions/${id}`, { token })).json() as ExecutionReply
}

/** Resolves once the execution has ended, woken by the engine's own final event (no polling). */
export async function waitFinal(fr: FlowRunner, token: string, id: string): Promise<ExecutionReply> {
  const ended = new Promise<void>((resolve) => {
    const off = fr.app.executionEvents.subscribe(id, (event) => {
      if (FINAL_EVENTS.has(event.type)) {
        off()
        resolve()
      }
    })
    void getExecution(fr, token, id).then((e) => {
      if (['completed', 'failed', 'cancelled'].includes(e.status)) {
        off()
        resolve()
      }
    })
  })
  await ended
  return getExecution(fr, token, id)
}

/**
 * Every event the engine publishes, from the moment this is called, kept per execution: a test can then wait
 * for an event that may already have happened (the first node of a run starts before `runFlow` returns).
 * Call it right after building the app.
 */
export class EventRecorder {
  private readonly byExecution = new Map<string, ExecutionEvent[]>()
  private readonly waiters: Array<{ id: string; match: (e: ExecutionEvent) => boolean; resolve: (e: ExecutionEvent) => void }> = []

  constructor(fr: FlowRunner) {
    // lives as long as the app's event bus: nothing to unsubscribe
    fr.app.executionEvents.subscribeAll((event) => {
      const list = this.byExecution.get(event.execution_id) ?? []
      list.push(event)
      this.byExecution.set(event.execution_id, list)
      for (const w of this.waiters.splice(0)) {
        if (w.id === event.execution_id && w.match(event)) w.resolve(event)
        else this.waiters.push(w)
      }
    })
  }

  events(id: string): ExecutionEvent[] {
    return this.byExecution.get(id) ?? []
  }

  /** The first event of the execution that matches, past or future. */
  waitFor(id: string, match: (event: ExecutionEvent) => boolean): Promise<ExecutionEvent> {
    const seen = this.events(id).find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve) => this.waiters.push({ id, match, resolve }))
  }

  /** Resolves when the execution waits at this node (a delay, a retry back-off, children): status `waiting`. */
  nodeWaiting(id: string, nodeId: string): Promise<ExecutionEvent> {
    return this.waitFor(id, (e) => e.type === 'execution_update' && e.status === 'waiting' && e.node_id === nodeId)
  }

  /** Resolves when the execution has started running this node (its "Node started" log event). */
  nodeStarted(id: string, nodeId: string): Promise<ExecutionEvent> {
    return this.waitFor(id, (e) => e.type === 'log' && e.message === 'Node started' && e.node_id === nodeId)
  }

  nodeCompleted(id: string, nodeId: string): Promise<ExecutionEvent> {
    return this.waitFor(id, (e) => e.type === 'node_completed' && e.node_id === nodeId)
  }
}


export async function logsOf(fr: FlowRunner, token: string, id: string, query = ''): Promise<LogLine[]> {
  return ((await fr.request('GET', `/api/v1/executions/${id}/logs?limit=100${query}`, { token })).json() as { logs: LogLine[] }).logs
}

/** Stores a secret for the user (as the user), for flows to read as `secrets.<key>`. */
export async function setSecret(fr: FlowRunner, user: { id: string; token: string }, key: string, value: string): Promise<void> {
  const res = await fr.request('POST', `/api/v1/accounts/${user.id}/secrets`, { token: user.token, body: { key, value } })
  if (res.statusCode !== 201) throw new Error(`secret create failed: ${res.statusCode} ${res.body}`)
}

/** Creates a flow, runs it once and waits for the end: the finished execution. */
export async function runToEnd(fr: FlowRunner, token: string, definition: string, input: unknown = {}): Promise<ExecutionReply> {
  const flowId = await createFlow(fr, token, definition)
  return waitFinal(fr, token, await runFlow(fr, token, flowId, input))
}

/**
 * Resolves once no queue job of the execution is waiting, deferred or running: after that nothing more of it
 * can run. Reads pg-boss's job table (a state check, not a timing assertion).
 */
export async function jobsSettled(fr: FlowRunner, id: string): Promise<void> {
  const schema = fr.app.config.flowRunner.queueSchema
  for (;;) {
    const [row] = await fr.sql<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.job WHERE data->>'executionId' = $1 AND state < 'completed'`, [id])
    if (row?.n === '0') return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A WebSocket subscription to one execution, recording every frame from the upgrade on. */
export interface Watch {
  socket: WebSocket
  frames: string[]
  messages: ExecutionEvent[]
  /** The close code and reason the server sent. */
  closed: Promise<{ code: number; reason: string }>
}

/** The upgrade was refused: the plain HTTP answer the client got instead. */
export class SocketRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string
  ) {
    super(`upgrade refused with ${status}: ${body}`)
  }
}

/**
 * Opens `/ws/executions/:id` on a listening app. The token travels as documented (Authorization header), or
 * as browsers must send it: `?token=` or the `bearer, <token>` subprotocol. Resolves once open.
 */
export function watch(baseUrl: string, id: string, token: string | undefined, via: 'header' | 'query' | 'protocol' = 'header'): Promise<Watch> {
  const url = new URL(`/ws/executions/${id}`, baseUrl.replace(/^http/, 'ws'))
  if (token !== undefined && via === 'query') url.searchParams.set('token', token)
  const protocols = token !== undefined && via === 'protocol' ? ['bearer', token] : []
  const headers = token !== undefined && via === 'header' ? { authorization: `Bearer ${token}` } : {}
  const socket = new WebSocket(url, protocols, { headers })
  const frames: string[] = []
  const messages: ExecutionEvent[] = []
  socket.on('message', (data: Buffer) => {
    const text = data.toString('utf8')
    frames.push(text)
    messages.push(JSON.parse(text) as ExecutionEvent)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, frames, messages, closed }))
    socket.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString('utf8')))
      res.on('end', () => reject(new SocketRefused(res.statusCode ?? 0, body)))
    })
    socket.once('error', reject)
  })
}
