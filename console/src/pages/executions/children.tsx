import { useState } from 'preact/hooks'
import { api } from '../../api/client.js'
import { EXECUTION_STATUSES, type ChildCounts } from '../../api/types.js'
import { ErrorAlert } from '../../ui/alert.js'
import { useAsync } from '../../ui/use-async.js'
import { ExecutionsTable } from './executions-table.js'
import type { ExecutionsReply } from './list.js'
import { Pager } from '../../ui/pager.js'
import { usePoll } from './use-poll.js'

const LIMIT = 20
const POLL_MS = 3_000

const COUNTS: ReadonlyArray<keyof Omit<ChildCounts, 'total'>> = ['completed', 'failed', 'cancelled', 'running', 'waiting', 'queued']

export interface ChildrenSectionProps {
  parentId: string
  counts: ChildCounts
  /** While the parent goes on, its children move without any event on its socket: the parent is polled. */
  live: boolean
  onPoll: () => void
}

/** A fan-out parent's children: how far they are, and each one (by item, filtered by status) linking to its own page. */
export function ChildrenSection({ parentId, counts, live, onPoll }: ChildrenSectionProps) {
  const [status, setStatus] = useState('')
  const [offset, setOffset] = useState(0)
  // the parent's counts move when any child does: the list is read again then, and only then
  const moved = COUNTS.map((k) => counts[k]).join(',')
  const list = useAsync(
    (signal) => api<ExecutionsReply>('GET', '/api/v1/executions', { query: { parent_id: parentId, status, limit: LIMIT, offset }, signal }),
    [parentId, status, offset, moved]
  )
  usePoll(live, POLL_MS, onPoll)
  const done = counts.completed + counts.failed + counts.cancelled
  return (
    <section aria-labelledby="children-title">
      <h2 id="children-title">Children</h2>
      <div class="exec-progress">
        <label for="children-progress">
          {done} of {counts.total} children ended
        </label>
        <progress id="children-progress" max={Math.max(counts.total, 1)} value={done} />
      </div>
      <ul class="exec-counts">
        {COUNTS.map((k) => (
          <li key={k}>
            {k}: <strong>{counts[k]}</strong>
          </li>
        ))}
      </ul>
      <div class="toolbar">
        <label>
          Status of children
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value)
              setOffset(0)
            }}
          >
            <option value="">All statuses</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorAlert message={list.error} />
      {list.data === undefined ? null : list.data.executions.length === 0 ? (
        <p>No children match.</p>
      ) : (
        <>
          <ExecutionsTable caption="Children, by item" executions={list.data.executions} flowNames={new Map()} ofParent />
          <Pager label="Children pages" offset={offset} limit={LIMIT} total={list.data.total} onOffset={setOffset} />
        </>
      )}
    </section>
  )
}
