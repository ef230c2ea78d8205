/** FlowRunner's reply shapes, as much of them as the CLI reads (routes/v1/schemas.ts has the full ones). */

export interface TokenReply {
  token: string
  expires_at: string
  account_id: string
}

export interface FlowSummary {
  id: string
  name: string
  description: string
  version: string | null
  created_at: string
  updated_at: string
  tags: string[]
}

export interface FlowDetail extends FlowSummary {
  definition: string
}

export interface FlowList {
  flows: FlowSummary[]
  total: number
}

export interface VersionList {
  versions: Array<{ revision: number; created_at: string }>
  total: number
}

export type ExecutionStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled'

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled'])

export interface RunReply {
  execution_id: string
  flow_id: string
  status: ExecutionStatus
  created_at: string
}

export interface ExecutionSummary {
  id: string
  flow_id: string
  flow_version: number
  status: ExecutionStatus
  started_at: string | null
  completed_at: string | null
  duration: number | null
  error?: string
  node_id?: string
}

export interface ExecutionDetail extends ExecutionSummary {
  input: unknown
  result: unknown
}

export interface ExecutionList {
  executions: ExecutionSummary[]
  total: number
}

export interface LogLine {
  timestamp: string
  level: string
  message: string
  node_id: string | null
  node_type: string | null
  data: unknown
}

export interface LogList {
  logs: LogLine[]
  total: number
}

export interface SecretInfo {
  key: string
  created_at: string
  updated_at: string
}

/** The WebSocket messages (src/flows/engine/events.ts), as a client reads them. */
export interface ExecutionEvent {
  type: 'execution_update' | 'node_completed' | 'execution_completed' | 'execution_failed' | 'execution_cancelled' | 'log'
  execution_id: string
  status?: string
  node_id?: string
  node_type?: string
  error?: string
  level?: string
  message?: string
  data?: unknown
  result?: unknown
  timestamp: string
}

export const FINAL_EVENTS: ReadonlySet<string> = new Set(['execution_completed', 'execution_failed', 'execution_cancelled'])
