import { useMemo } from 'preact/hooks'
import { api } from '../../api/client.js'
import type { ExecutionDetail, FlowVersionDetail } from '../../api/types.js'
import { graphOf, type FlowGraphData } from '../../graph/flow-graph.js'
import { FINAL_STATUSES } from '../../live/execution-state.js'
import { timingsOf } from '../../live/node-timing.js'
import { useExecutionLive } from '../../live/use-execution-live.js'
import { useExecutionLogs } from '../../live/use-execution-logs.js'
import type { Match } from '../../router.js'
import { ErrorAlert, Notice } from '../../ui/alert.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { CancelControl, RerunForm } from './actions.js'
import { ChildrenSection } from './children.js'
import { shortId } from './executions-table.js'
import { LogsPanel } from './logs-panel.js'
import { nodeRows } from './node-rows.js'
import { NodesSection } from './nodes-section.js'
import { Summary } from './summary.js'
import { usePoll } from './use-poll.js'

const POLL_MS = 3_000

/** The nodes the log names, when the revision itself cannot be read (its flow deleted): a table, no drawing. */
function graphFromLog(lines: ReadonlyArray<{ node_id: string | null; node_type: string | null }>): FlowGraphData {
  const types = new Map<string, string>()
  for (const l of lines) if (l.node_id !== null && !types.has(l.node_id)) types.set(l.node_id, l.node_type ?? '?')
  return { nodes: [...types].map(([id, type]) => ({ id, type })), edges: [] }
}

/** `#/executions/:id`: one execution, live over its WebSocket until it ends. */
export function ExecutionPage({ match }: { match: Match }) {
  const id = match.params.id ?? ''
  const detail = useAsync((signal) => api<ExecutionDetail>('GET', `/api/v1/executions/${encodeURIComponent(id)}`, { signal }), [id])
  const e = detail.data
  const { live, socket, logs: liveLogs, opens } = useExecutionLive(id, detail.reload)
  const logs = useExecutionLogs(id, liveLogs, opens, socket === 'reconnecting' || socket === 'closed')

  const version = useAsync(
    async (signal) => (e === undefined ? undefined : api<FlowVersionDetail>('GET', `/api/v1/flows/${encodeURIComponent(e.flow_id)}/versions/${e.flow_version}`, { signal })),
    [e?.flow_id, e?.flow_version]
  )
  const parsed = useMemo(() => (version.data === undefined ? undefined : graphOf(version.data.definition)), [version.data])
  const graph = parsed ?? (version.error === undefined && version.data === undefined ? undefined : graphFromLog(logs.lines))
  const timings = useMemo(() => timingsOf(logs.lines), [logs.lines])
  const rows = useMemo(() => (graph === undefined ? [] : nodeRows(graph, live, e, timings)), [graph, live, e, timings])

  // the socket is ahead of the execution as read, until the final event makes the page read it again
  const status = live.final?.status ?? (e !== undefined && FINAL_STATUSES.has(e.status) ? e.status : (live.status ?? e?.status))
  const ended = status !== undefined && FINAL_STATUSES.has(status)
  // without its socket the page still moves on, by reading the execution again
  usePoll(!ended && socket !== 'open' && e !== undefined, POLL_MS, detail.reload)

  const title = `Execution ${shortId(id)}`
  if (e === undefined || status === undefined) {
    return (
      <Page title={title}>
        <ErrorAlert message={detail.error} />
        {detail.error === undefined ? <p class="muted">Loading the execution…</p> : <a href="#/executions">Back to the executions.</a>}
      </Page>
    )
  }
  const flowName = version.data?.name
  const nodeIds = graph === undefined ? [] : [...graph.nodes.map((n) => n.id)].sort((a, b) => (a === graph.start ? -1 : b === graph.start ? 1 : 0))

  return (
    <Page title={title} actions={ended ? undefined : <CancelControl id={id} onDone={detail.reload} />}>
      <p class="muted mono exec-id">{id}</p>
      {ended ? null : (
        <p class="muted" role="status">
          {socket === 'open' ? 'Following live.' : socket === 'reconnecting' ? 'Connection lost: reconnecting…' : 'Connecting…'}
        </p>
      )}
      <ErrorAlert message={detail.error} />
      <Summary execution={e} status={status} flowName={flowName} />
      {ended && FINAL_STATUSES.has(e.status) ? <RerunForm id={id} status={e.status} revision={e.flow_version} nodes={nodeIds} /> : null}
      {e.children === undefined ? null : <ChildrenSection parentId={id} counts={e.children} live={!ended} onPoll={detail.reload} />}
      {version.error === undefined ? null : <Notice>The flow's revision {e.flow_version} cannot be read ({version.error}): the nodes below are those its log names.</Notice>}
      {graph === undefined ? <p class="muted">Loading the flow's graph…</p> : <NodesSection graph={graph} rows={rows} flowName={flowName ?? e.flow_id} drawing={parsed !== undefined} />}
      <LogsPanel logs={logs} />
    </Page>
  )
}
