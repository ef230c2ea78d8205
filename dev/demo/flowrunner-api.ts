import { Agent, request, type Dispatcher } from 'undici'
import type { FlowDetail, FlowSummary, LogLine, RunReply, SecretInfo, TokenReply as Login } from '../../src/cli/flows/types.js'

export type { FlowDetail, FlowSummary, Login, LogLine, RunReply, SecretInfo }

/**
 * A small client for FlowRunner's HTTP API, used by the demo (to set itself up through the real API, as a user
 * would) and by the flows bench (to drive it from outside the server process). Only the calls those two need.
 */

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string
  ) {
    super(`${method} ${path} answered ${status}: ${body.slice(0, 500)}`)
  }
}

/** How an execution's children stand (those of its last node that started any). */
export interface ChildCounts {
  total: number
  completed: number
  failed: number
  running: number
  waiting: number
  queued: number
  cancelled: number
}

/** An execution as `GET /api/v1/executions/:id` answers (the shape the tests read too). */
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
  parent_id?: string | null
  item_index?: number | null
  rerun_of?: string | null
  /** What started it: a trigger (a schedule's tick too), or null for a run through the API. */
  trigger?: { type: 'schedule' | 'webhook'; id: string; tick?: string } | null
  children?: ChildCounts
}

/** A flow's trigger as `GET /api/v1/flows/{id}/triggers` lists it. */
export interface TriggerInfo {
  id: string
  type: 'schedule' | 'webhook'
  enabled: boolean
  cron: string | null
  timezone: string | null
  catch_up: 'skip' | 'once' | 'all' | null
  next_fire_at: string | null
  last_fire_at: string | null
  last_execution_id: string | null
  /** A webhook's path, `/api/v1/hooks/<hook id>`. */
  url: string | null
}

/** An entry of `GET /api/v1/executions`. */
export type ExecutionSummary = Omit<ExecutionReply, 'input' | 'result' | 'children'>

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

export class FlowRunnerApi {
  token: string | undefined
  private readonly dispatcher: Dispatcher

  /** `connections` bounds the keep-alive pool: the bench sizes it to its own concurrency. */
  constructor(
    readonly baseUrl: string,
    options: { connections?: number } = {}
  ) {
    this.dispatcher = new Agent({ connections: options.connections ?? 16, keepAliveTimeout: 30_000 })
  }

  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {}
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await request(`${this.baseUrl}${path}`, {
      method,
      headers,
      dispatcher: this.dispatcher,
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.body.text()
    if (res.statusCode >= 300) throw new ApiError(method, path, res.statusCode, text)
    return JSON.parse(text) as T
  }

  async login(username: string, password: string): Promise<Login> {
    const login = await this.call<Login>('POST', '/api/v1/auth/login', { username, password })
    this.token = login.token
    return login
  }

  async secrets(accountId: string): Promise<SecretInfo[]> {
    return (await this.call<{ secrets: SecretInfo[] }>('GET', `/api/v1/accounts/${encodeURIComponent(accountId)}/secrets`)).secrets
  }

  async createSecret(accountId: string, key: string, value: string): Promise<SecretInfo> {
    return this.call<SecretInfo>('POST', `/api/v1/accounts/${encodeURIComponent(accountId)}/secrets`, { key, value })
  }

  async deleteSecret(accountId: string, key: string): Promise<void> {
    await this.call('DELETE', `/api/v1/accounts/${encodeURIComponent(accountId)}/secrets/${encodeURIComponent(key)}`)
  }

  /** Every flow carrying `tag`, all pages. */
  async flowsTagged(tag: string): Promise<FlowSummary[]> {
    const all: FlowSummary[] = []
    for (let offset = 0; ; offset += 100) {
      const page = await this.call<{ flows: FlowSummary[]; total: number }>('GET', `/api/v1/flows?tag=${encodeURIComponent(tag)}&limit=100&offset=${offset}`)
      all.push(...page.flows)
      if (page.flows.length === 0 || all.length >= page.total) return all
    }
  }

  async flow(id: string): Promise<FlowDetail> {
    return this.call<FlowDetail>('GET', `/api/v1/flows/${encodeURIComponent(id)}`)
  }

  async createFlow(flow: { name: string; description?: string; definition: string; tags?: string[] }): Promise<FlowSummary> {
    return this.call<FlowSummary>('POST', '/api/v1/flows', flow)
  }

  async updateFlow(id: string, changes: { definition?: string; description?: string; tags?: string[] }): Promise<FlowSummary> {
    return this.call<FlowSummary>('PUT', `/api/v1/flows/${encodeURIComponent(id)}`, changes)
  }

  async triggers(flowId: string): Promise<TriggerInfo[]> {
    return (await this.call<{ triggers: TriggerInfo[] }>('GET', `/api/v1/flows/${encodeURIComponent(flowId)}/triggers`)).triggers
  }

  async run(flowId: string, input: Record<string, unknown>): Promise<RunReply> {
    return this.call<RunReply>('POST', `/api/v1/flows/${encodeURIComponent(flowId)}/run`, { input })
  }

  /** `POST /executions/{id}/rerun`: a new execution re-running `id` (from where it failed, by default). */
  async rerun(id: string, body: { from?: string; input?: Record<string, unknown>; version?: 'pinned' | 'latest' } = {}): Promise<RunReply> {
    return this.call<RunReply>('POST', `/api/v1/executions/${encodeURIComponent(id)}/rerun`, body)
  }

  /** One page of `GET /api/v1/executions`, e.g. `?parent_id=<id>&status=failed`. */
  async executions(query = ''): Promise<{ executions: ExecutionSummary[]; total: number }> {
    return this.call<{ executions: ExecutionSummary[]; total: number }>('GET', `/api/v1/executions${query}`)
  }

  async execution(id: string): Promise<ExecutionReply> {
    return this.call<ExecutionReply>('GET', `/api/v1/executions/${encodeURIComponent(id)}`)
  }

  async logs(id: string, query = ''): Promise<{ logs: LogLine[]; total: number }> {
    return this.call<{ logs: LogLine[]; total: number }>('GET', `/api/v1/executions/${encodeURIComponent(id)}/logs${query}`)
  }

  async close(): Promise<void> {
    await this.dispatcher.close()
  }
}
