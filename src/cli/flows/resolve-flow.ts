import { CliError } from '../cli-error.js'
import { seg, type FlowRunnerClient } from './api-client.js'
import type { FlowDetail, FlowList, FlowSummary } from './types.js'

const PAGE = 100

/** Every flow the login can see (the API pages at 100). */
export async function allFlows(client: FlowRunnerClient): Promise<FlowSummary[]> {
  const out: FlowSummary[] = []
  for (;;) {
    const page = await client.call<FlowList>('GET', `/api/v1/flows?limit=${PAGE}&offset=${out.length}`)
    out.push(...page.flows)
    if (page.flows.length === 0 || out.length >= page.total) return out
  }
}

/** The flows named exactly `name`. */
export async function flowsNamed(client: FlowRunnerClient, name: string): Promise<FlowSummary[]> {
  return (await allFlows(client)).filter((f) => f.name === name)
}

/**
 * A flow by id, else by name. Ids are tried first (they look like `flow-<uuid>`); a name two flows share is
 * refused with their ids, so a command never acts on the wrong one.
 */
export async function resolveFlow(client: FlowRunnerClient, idOrName: string): Promise<FlowDetail> {
  if (idOrName.startsWith('flow-')) {
    const byId = await client.maybe<FlowDetail>('GET', `/api/v1/flows/${seg(idOrName)}`, [404])
    if (byId !== undefined) return byId
  }
  const named = await flowsNamed(client, idOrName)
  if (named.length === 0) throw new CliError('not_found', `No flow with the id or name ${JSON.stringify(idOrName)}`, null, 404)
  if (named.length > 1) {
    throw new CliError('ambiguous_name', `${named.length} flows are named ${JSON.stringify(idOrName)}: use an id`, { ids: named.map((f) => f.id) })
  }
  return client.call<FlowDetail>('GET', `/api/v1/flows/${seg((named[0] as FlowSummary).id)}`)
}

/** The newest revision number of a flow (every save adds one). */
export async function latestRevision(client: FlowRunnerClient, id: string): Promise<number | undefined> {
  const list = await client.call<{ versions: Array<{ revision: number }> }>('GET', `/api/v1/flows/${seg(id)}/versions?limit=1`)
  return list.versions[0]?.revision
}
