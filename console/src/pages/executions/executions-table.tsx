import type { ExecutionSummary } from '../../api/types.js'
import { href } from '../../router.js'
import { duration, when } from '../../ui/format.js'
import { StatusBadge } from '../../ui/status.js'
import { FINAL_STATUSES } from '../../live/execution-state.js'

/** An execution id short enough for a table cell; the full one is the link's title and its target. */
export function shortId(id: string): string {
  return id.replace(/^exec-/, '').slice(0, 8)
}

export function ExecutionLink({ id }: { id: string }) {
  return (
    <a href={href('/executions', id)} class="mono" title={id}>
      {shortId(id)}
    </a>
  )
}

/** How long it ran, or has been running so far (the list is polled, so this moves on while it runs). */
export function elapsed(e: Pick<ExecutionSummary, 'status' | 'duration' | 'started_at'>, now = Date.now()): string {
  if (e.duration !== null) return duration(e.duration)
  if (FINAL_STATUSES.has(e.status) || e.started_at === null) return '—'
  return `${duration(now - Date.parse(e.started_at))} so far`
}

function TriggerCell({ e }: { e: ExecutionSummary }) {
  if (e.parent_id !== null) {
    return (
      <>
        {e.item_index === null ? 'child of ' : `item ${e.item_index} of `}
        <ExecutionLink id={e.parent_id} />
      </>
    )
  }
  if (e.trigger === null) return <>API</>
  return <>{e.trigger.type}</>
}

export interface ExecutionsTableProps {
  caption: string
  executions: readonly ExecutionSummary[]
  flowNames: ReadonlyMap<string, string>
  /** Children of one parent: its item index matters, its flow is the parent's. */
  ofParent?: boolean
}

export function ExecutionsTable({ caption, executions, flowNames, ofParent = false }: ExecutionsTableProps) {
  const now = Date.now()
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Status</th>
            {ofParent ? <th scope="col">Item</th> : <th scope="col">Flow</th>}
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            {ofParent ? null : <th scope="col">Trigger</th>}
            <th scope="col">Re-run of</th>
          </tr>
        </thead>
        <tbody>
          {executions.map((e) => (
            <tr key={e.id}>
              <td>
                <ExecutionLink id={e.id} />
              </td>
              <td>
                <StatusBadge status={e.status} />
              </td>
              {ofParent ? (
                <td>{e.item_index ?? '—'}</td>
              ) : (
                <td>
                  <a href={href('/flows', e.flow_id)}>{flowNames.get(e.flow_id) ?? e.flow_id}</a> <span class="muted">v{e.flow_version}</span>
                </td>
              )}
              <td>{when(e.started_at)}</td>
              <td>{elapsed(e, now)}</td>
              {ofParent ? null : (
                <td>
                  <TriggerCell e={e} />
                </td>
              )}
              <td>{e.rerun_of === null ? '—' : <ExecutionLink id={e.rerun_of} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
