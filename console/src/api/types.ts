// The replies of the public API the console reads (see /docs for the full schemas). Those the CLI reads too
// come from its one copy.
import type { ExecutionSummary as CliExecutionSummary, ExecutionStatus } from '../../../src/cli/flows/types.js'

export type { ExecutionStatus, FlowDetail, FlowSummary, LogLine, RunReply, SecretInfo, TokenReply } from '../../../src/cli/flows/types.js'

export type Role = 'admin' | 'user'
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ['queued', 'running', 'waiting', 'completed', 'failed', 'cancelled']

export interface Account {
  id: string
  name: string
  email: string
  role: Role
  created_at: string
  updated_at: string
}

export interface Page {
  total: number
  limit: number
  offset: number
}

export interface FlowVersion {
  revision: number
  name: string
  description: string
  version: string | null
  tags: string[]
  author_id: string | null
  created_at: string
}

export interface FlowVersionDetail extends FlowVersion {
  definition: string
}

/** What the CLI reads of an execution, and its place among others (parent, item, re-run, trigger). */
export interface ExecutionSummary extends CliExecutionSummary {
  parent_id: string | null
  item_index: number | null
  rerun_of: string | null
  trigger: { type: 'schedule' | 'webhook'; id: string; tick?: string } | null
}

export interface ChildCounts {
  total: number
  completed: number
  failed: number
  running: number
  waiting: number
  queued: number
  cancelled: number
}

export interface ExecutionDetail extends ExecutionSummary {
  input: unknown
  result: unknown
  children?: ChildCounts
}

export interface Trigger {
  id: string
  type: 'schedule' | 'webhook'
  enabled: boolean
  cron: string | null
  timezone: string | null
  catch_up: 'skip' | 'once' | 'all' | null
  next_fire_at: string | null
  last_fire_at: string | null
  last_execution_id: string | null
  url: string | null
}

/** The WebSocket's messages (`/ws/executions/:id`), as the API reference documents them. */
export type ExecutionEvent =
  | { type: 'execution_update'; execution_id: string; status: ExecutionStatus; node_id?: string; node_type?: string; timestamp: string }
  | { type: 'node_completed'; execution_id: string; node_id: string; node_type: string; result: unknown; timestamp: string }
  | { type: 'execution_completed'; execution_id: string; status: 'completed'; result: unknown; timestamp: string }
  | { type: 'execution_failed'; execution_id: string; status: 'failed'; error: string; node_id?: string; node_type?: string; timestamp: string }
  | { type: 'execution_cancelled'; execution_id: string; status: 'cancelled'; timestamp: string }
  | { type: 'log'; execution_id: string; level: string; message: string; node_id?: string; node_type?: string; data?: unknown; timestamp: string }
