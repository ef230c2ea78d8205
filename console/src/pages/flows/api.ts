import { api, ApiError } from '../../api/client.js'
import type { ExecutionDetail, FlowDetail, FlowSummary, FlowVersion, FlowVersionDetail, RunReply, Trigger } from '../../api/types.js'

const PAGE = 100

interface FlowsPage {
  flows: FlowSummary[]
  total: number
}

/**
 * Every flow the account can see. The list API filters by tag only, so search runs in the browser over all of
 * them; pages of 100 (the API's most) are fetched until the total is reached.
 */
export async function allFlows(signal: AbortSignal): Promise<FlowSummary[]> {
  const flows: FlowSummary[] = []
  for (;;) {
    const page = await api<FlowsPage>('GET', '/api/v1/flows', { query: { limit: PAGE, offset: flows.length }, signal })
    flows.push(...page.flows)
    if (page.flows.length === 0 || flows.length >= page.total) return flows
  }
}

export type Loaded<T> = { found: true; value: T } | { found: false }

/** A 404 is an answer here (the flow is gone, or is another account's), not an error. */
export async function orNotFound<T>(load: Promise<T>): Promise<Loaded<T>> {
  try {
    return { found: true, value: await load }
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { found: false }
    throw err
  }
}

export function getFlow(id: string, signal?: AbortSignal): Promise<FlowDetail> {
  return api<FlowDetail>('GET', `/api/v1/flows/${encodeURIComponent(id)}`, { signal })
}

/** Saves a new flow (no id) or a new revision; the name and description come from the definition's metadata. */
export function saveFlow(id: string | undefined, definition: string): Promise<FlowSummary> {
  return id === undefined
    ? api<FlowSummary>('POST', '/api/v1/flows', { body: { definition } })
    : api<FlowSummary>('PUT', `/api/v1/flows/${encodeURIComponent(id)}`, { body: { definition } })
}

export function deleteFlow(id: string): Promise<unknown> {
  return api('DELETE', `/api/v1/flows/${encodeURIComponent(id)}`)
}

/** Checks a definition as saving would, saving nothing: resolves when valid, throws the save's 422 otherwise. */
export function validateFlow(definition: string, signal: AbortSignal): Promise<unknown> {
  return api('POST', '/api/v1/flows/validate', { body: { definition }, signal })
}

interface VersionsPage {
  versions: FlowVersion[]
  total: number
}

/** Every revision of a flow, newest or oldest first as the API lists them (callers sort). */
export async function allVersions(id: string, signal?: AbortSignal): Promise<FlowVersion[]> {
  const versions: FlowVersion[] = []
  for (;;) {
    const page = await api<VersionsPage>('GET', `/api/v1/flows/${encodeURIComponent(id)}/versions`, {
      query: { limit: PAGE, offset: versions.length },
      signal
    })
    versions.push(...page.versions)
    if (page.versions.length === 0 || versions.length >= page.total) return versions
  }
}

/** Revisions are numbered 1, 2, … and never deleted, so their count is the latest's number. */
export async function latestRevision(id: string): Promise<number> {
  const page = await api<VersionsPage>('GET', `/api/v1/flows/${encodeURIComponent(id)}/versions`, { query: { limit: 1 } })
  return page.total
}

export function getVersion(id: string, revision: number, signal?: AbortSignal): Promise<FlowVersionDetail> {
  return api<FlowVersionDetail>('GET', `/api/v1/flows/${encodeURIComponent(id)}/versions/${revision}`, { signal })
}

export async function listTriggers(id: string, signal?: AbortSignal): Promise<Trigger[]> {
  const reply = await api<{ triggers: Trigger[] }>('GET', `/api/v1/flows/${encodeURIComponent(id)}/triggers`, { signal })
  return reply.triggers
}

export function setTriggerEnabled(flowId: string, triggerId: string, enabled: boolean): Promise<Trigger> {
  return api<Trigger>('PATCH', `/api/v1/flows/${encodeURIComponent(flowId)}/triggers/${encodeURIComponent(triggerId)}`, {
    body: { enabled }
  })
}

/** 201/202 give the new execution's id; with `wait`, a 200 gives the ended execution itself. */
export type RunOutcome = { ended: false; reply: RunReply } | { ended: true; execution: ExecutionDetail }

export async function runFlow(id: string, input: Record<string, unknown>, wait: boolean): Promise<RunOutcome> {
  const reply = await api<RunReply | ExecutionDetail>('POST', `/api/v1/flows/${encodeURIComponent(id)}/run`, {
    body: { input },
    query: { wait: wait ? '30s' : undefined }
  })
  // The client hides the status code; only the ended execution (200) has `result` and `id`.
  return 'execution_id' in reply ? { ended: false, reply } : { ended: true, execution: reply }
}
