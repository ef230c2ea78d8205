import { api } from '../../api/client.js'
import type { FlowSummary, Page } from '../../api/types.js'
import { useAsync } from '../../ui/use-async.js'

const PAGE = 100
/** Flows read for the names at most; past that, an execution shows its flow id. */
const MAX_FLOWS = 1_000

interface FlowsReply extends Page {
  flows: FlowSummary[]
}

/** The caller's flows (by name), for the flow filter and to name each execution's flow. */
export function useFlows(): { flows: readonly FlowSummary[]; names: ReadonlyMap<string, string>; error: string | undefined } {
  const { data, error } = useAsync(async (signal) => {
    const flows: FlowSummary[] = []
    for (;;) {
      const reply = await api<FlowsReply>('GET', '/api/v1/flows', { query: { limit: PAGE, offset: flows.length }, signal })
      flows.push(...reply.flows)
      if (reply.flows.length < PAGE || flows.length >= reply.total || flows.length >= MAX_FLOWS) break
    }
    return flows.sort((a, b) => a.name.localeCompare(b.name))
  }, [])
  const flows = data ?? []
  return { flows, names: new Map(flows.map((f) => [f.id, f.name])), error }
}
