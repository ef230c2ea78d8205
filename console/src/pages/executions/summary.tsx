import type { ExecutionDetail, ExecutionStatus } from '../../api/types.js'
import { FINAL_STATUSES } from '../../live/execution-state.js'
import { href } from '../../router.js'
import { when, pretty } from '../../ui/format.js'
import { StatusBadge } from '../../ui/status.js'
import { elapsed, ExecutionLink } from './executions-table.js'
import { useNow } from './use-now.js'

function TriggerText({ e }: { e: ExecutionDetail }) {
  if (e.trigger === null) return <>{e.parent_id === null ? 'Run through the API' : 'Started by its parent'}</>
  return (
    <>
      {e.trigger.type} <span class="mono">{e.trigger.id}</span>
      {e.trigger.tick === undefined ? null : <> (tick {when(e.trigger.tick)})</>}
    </>
  )
}

/** Its duration, counting on each second while it runs (a small component: the page around it stays put). */
function Elapsed({ e, status }: { e: ExecutionDetail; status: ExecutionStatus }) {
  const now = useNow(e.duration === null && e.started_at !== null && !FINAL_STATUSES.has(status))
  return <>{elapsed({ ...e, status }, now)}</>
}

export interface SummaryProps {
  execution: ExecutionDetail
  /** The status as the socket has it, which may be ahead of the execution as read. */
  status: ExecutionStatus
  flowName: string | undefined
}

/** Who, what and when of one execution, then its input and its result or error. */
export function Summary({ execution: e, status, flowName }: SummaryProps) {
  return (
    <>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={status} />
        </dd>
        <dt>Flow</dt>
        <dd>
          <a href={href('/flows', e.flow_id)}>{flowName ?? e.flow_id}</a>
        </dd>
        <dt>Version</dt>
        <dd>
          <a href={href('/flows', e.flow_id, 'versions')}>revision {e.flow_version}</a>
        </dd>
        <dt>Started</dt>
        <dd>{when(e.started_at)}</dd>
        <dt>Completed</dt>
        <dd>{when(e.completed_at)}</dd>
        <dt>Duration</dt>
        <dd>
          <Elapsed e={e} status={status} />
        </dd>
        <dt>Trigger</dt>
        <dd>
          <TriggerText e={e} />
        </dd>
        {e.parent_id === null ? null : (
          <>
            <dt>Parent</dt>
            <dd>
              <ExecutionLink id={e.parent_id} />
              {e.item_index === null ? null : <> (item {e.item_index})</>}
            </dd>
          </>
        )}
        {e.rerun_of === null ? null : (
          <>
            <dt>Re-run of</dt>
            <dd>
              <ExecutionLink id={e.rerun_of} />
            </dd>
          </>
        )}
      </dl>
      <div class="exec-io">
        <section aria-labelledby="input-title">
          <h2 id="input-title">Input</h2>
          <pre>{pretty(e.input)}</pre>
        </section>
        {e.error !== undefined ? (
          <section aria-labelledby="error-title">
            <h2 id="error-title">Error</h2>
            <pre class="exec-error">
              {e.node_id === undefined ? '' : `${e.node_id}: `}
              {e.error}
            </pre>
          </section>
        ) : e.status === 'completed' ? (
          <section aria-labelledby="result-title">
            <h2 id="result-title">Result</h2>
            <pre>{pretty(e.result)}</pre>
          </section>
        ) : null}
      </div>
    </>
  )
}
