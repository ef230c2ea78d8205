import { api } from '../../api/client.js'
import { EXECUTION_STATUSES, type ExecutionSummary, type Page as ApiPage } from '../../api/types.js'
import { FINAL_STATUSES } from '../../live/execution-state.js'
import { navigate, withQuery, type Match } from '../../router.js'
import { ErrorAlert } from '../../ui/alert.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { ExecutionsTable } from './executions-table.js'
import { Pager } from '../../ui/pager.js'
import { useFlows } from './use-flow-names.js'
import { usePoll } from './use-poll.js'

const LIMIT = 20
const POLL_MS = 3_000

export interface ExecutionsReply extends ApiPage {
  executions: ExecutionSummary[]
}

function offsetOf(query: URLSearchParams): number {
  const n = Number(query.get('offset') ?? '0')
  return Number.isInteger(n) && n > 0 ? n : 0
}

/** `#/executions?flow_id=&status=&offset=`: the filters and the page live in the URL, so a link or a reload keeps them. */
export function ExecutionsPage({ match }: { match: Match }) {
  const flowId = match.query.get('flow_id') ?? ''
  const status = match.query.get('status') ?? ''
  const offset = offsetOf(match.query)
  const { flows, names, error: flowsError } = useFlows()

  const list = useAsync(
    (signal) => api<ExecutionsReply>('GET', '/api/v1/executions', { query: { flow_id: flowId, status, limit: LIMIT, offset }, signal }),
    [flowId, status, offset]
  )
  const rows = list.data?.executions ?? []
  usePoll(rows.some((e) => !FINAL_STATUSES.has(e.status)), POLL_MS, list.reload)

  // a new filter starts at its first page
  const go = (next: { flow_id?: string; status?: string; offset?: number }): void => {
    const o = next.offset ?? 0
    navigate(withQuery('#/executions', { flow_id: next.flow_id ?? flowId, status: next.status ?? status, offset: o > 0 ? String(o) : undefined }))
  }

  return (
    <Page title="Executions">
      <form class="toolbar" aria-label="Filter executions" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => go({ status: e.currentTarget.value })}>
            <option value="">All statuses</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Flow
          <select value={flowId} onChange={(e) => go({ flow_id: e.currentTarget.value })}>
            <option value="">All flows</option>
            {flowId !== '' && !names.has(flowId) ? <option value={flowId}>{flowId}</option> : null}
            {flows.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorAlert message={list.error ?? flowsError} />
      {list.data === undefined ? (
        list.loading ? <p class="muted">Loading executions…</p> : null
      ) : rows.length === 0 ? (
        <p>{flowId === '' && status === '' ? 'No executions yet: run a flow from its page.' : 'No executions match these filters.'}</p>
      ) : (
        <>
          <ExecutionsTable caption="Executions, newest first" executions={rows} flowNames={names} />
          <Pager label="Executions pages" offset={offset} limit={LIMIT} total={list.data.total} onOffset={(o) => go({ offset: o })} />
        </>
      )}
    </Page>
  )
}
