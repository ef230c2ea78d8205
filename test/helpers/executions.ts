import { FINAL_EVENTS } from '../../src/flows/engine/events.js'
import type { FlowRunner } from './flowrunner.js'

export interface ExecutionReply {
  id: string
  flow_id: string
  flow_version: number
  status: string
  input: unknown
  result: unknown
  started_at: string | null
  completed_at: string | null
  duration: number | null
  error?: string
  node_id?: string
}

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

/** Resolves when the execution has started running this node (its "Node started" log event). */
export function nodeStarted(fr: FlowRunner, id: string, nodeId: string): Promise<void> {
  return new Promise((resolve) => {
    const off = fr.app.executionEvents.subscribe(id, (event) => {
      if (event.type === 'log' && event.message === 'Node started' && event.node_id === nodeId) {
        off()
        resolve()
      }
    })
  })
}

export interface LogLine {
  timestamp: string
  level: string
  message: string
  node_id: string | null
  node_type: string | null
  data: unknown
}

export async function logsOf(fr: FlowRunner, token: string, id: string, query = ''): Promise<LogLine[]> {
  return ((await fr.request('GET', `/api/v1/executions/${id}/logs?limit=100${query}`, { token })).json() as { logs: LogLine[] }).logs
}
