import { useMemo, useState } from 'preact/hooks'
import { FlowGraph, type FlowGraphData, type NodeStatus } from '../../graph/flow-graph.js'
import { duration, pretty } from '../../ui/format.js'
import { StatusBadge } from '../../ui/status.js'
import type { NodeRow } from './node-rows.js'
import { useNow } from './use-now.js'

function timeOf(row: NodeRow, now: number): string {
  if (row.since !== undefined) return `${duration(Math.max(0, now - row.since))} so far`
  return row.durationMs === undefined ? '' : duration(row.durationMs)
}

function NodeDetail({ row, now }: { row: NodeRow; now: number }) {
  return (
    <section class="card exec-node-detail" aria-labelledby="node-detail-title">
      <h3 id="node-detail-title">
        Node <code>{row.id}</code> <span class="muted">({row.type})</span>
      </h3>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={row.status} />
        </dd>
        <dt>Duration</dt>
        <dd>{timeOf(row, now) || '—'}</dd>
        {row.runs > 1 ? (
          <>
            <dt>Runs</dt>
            <dd>{row.runs} (the latest shown)</dd>
          </>
        ) : null}
      </dl>
      {row.error === undefined ? null : (
        <>
          <h4>Error</h4>
          <pre class="exec-error">{row.error}</pre>
        </>
      )}
      {row.result === undefined ? (
        row.error === undefined ? <p class="muted">No result{row.status === 'completed' ? ' was sent for it' : ' yet'}.</p> : null
      ) : (
        <>
          <h4>Result</h4>
          <pre>{pretty(row.result.value)}</pre>
        </>
      )}
    </section>
  )
}

export interface NodesSectionProps {
  graph: FlowGraphData
  rows: readonly NodeRow[]
  flowName: string
  /** False when the edges are unknown (the revision could not be read): the table alone then. */
  drawing: boolean
}

/** The revision's graph coloured by node status, the same facts as a table, and the chosen node's result or error. */
export function NodesSection({ graph, rows, flowName, drawing }: NodesSectionProps) {
  const [selected, setSelected] = useState<string | undefined>(undefined)
  const now = useNow(rows.some((r) => r.since !== undefined))
  const statuses = useMemo(() => Object.fromEntries(rows.map((r) => [r.id, r.status])) as Record<string, NodeStatus>, [rows])
  const details = Object.fromEntries(rows.map((r) => [r.id, timeOf(r, now)]))
  const chosen = rows.find((r) => r.id === selected)
  const toggle = (id: string): void => setSelected((s) => (s === id ? undefined : id))
  return (
    <section aria-labelledby="nodes-title">
      <h2 id="nodes-title">Nodes</h2>
      <div class="exec-nodes">
        {drawing ? (
          <div class="exec-graph">
            <FlowGraph graph={graph} label={`Graph of ${flowName}, each node with its status`} statuses={statuses} details={details} selected={selected} onSelect={toggle} />
          </div>
        ) : null}
        <div class="exec-node-side">
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Nodes</caption>
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id} class={r.id === selected ? 'exec-row-selected' : undefined}>
                    <th scope="row">
                      <button type="button" class="exec-link-button mono" aria-pressed={r.id === selected} onClick={() => toggle(r.id)}>
                        {r.id}
                      </button>
                    </th>
                    <td>{r.type}</td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td>{timeOf(r, now) || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {chosen === undefined ? <p class="muted">Choose a node (in the graph or the table) to see its result or error.</p> : <NodeDetail row={chosen} now={now} />}
        </div>
      </div>
    </section>
  )
}
