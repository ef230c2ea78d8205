import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from '../../api/client.js'
import { messageOf } from '../../api/errors.js'
import type { ExecutionStatus, RunReply } from '../../api/types.js'
import { href, navigate } from '../../router.js'
import { ErrorAlert } from '../../ui/alert.js'

const path = (id: string): string => `/api/v1/executions/${encodeURIComponent(id)}`

/** "Cancel execution", then an inline confirmation (a stray click must not end a run). */
export function CancelControl({ id, onDone }: { id: string; onDone: () => void }) {
  const [asking, setAsking] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)
  const confirmRef = useRef<HTMLButtonElement>(null)
  const askRef = useRef<HTMLButtonElement>(null)
  const wasAsking = useRef(false)
  useEffect(() => {
    // keyboard users land on the question, and back on the button when they decline
    if (asking) confirmRef.current?.focus()
    else if (wasAsking.current) askRef.current?.focus()
    wasAsking.current = asking
  }, [asking])

  const cancel = async (): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      await api('DELETE', path(id))
      setAsking(false)
      onDone()
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div class="exec-action">
      {asking ? (
        <div class="exec-confirm" role="group" aria-label="Confirm the cancel">
          <span>Stop this execution? Nothing after the current node will run.</span>
          <button ref={confirmRef} type="button" class="danger" disabled={busy} onClick={() => void cancel()}>
            Yes, stop it
          </button>
          <button type="button" disabled={busy} onClick={() => setAsking(false)}>
            Keep it running
          </button>
        </div>
      ) : (
        <button ref={askRef} type="button" class="danger" onClick={() => setAsking(true)}>
          Cancel execution
        </button>
      )}
      <ErrorAlert message={error} />
    </div>
  )
}

export interface RerunFormProps {
  id: string
  status: ExecutionStatus
  revision: number
  /** The revision's node ids, the start node first when known. */
  nodes: readonly string[]
}

/** Re-runs an ended execution from where it failed or from a chosen node, on its revision or the latest. */
export function RerunForm({ id, status, revision, nodes }: RerunFormProps) {
  const [chosen, setFrom] = useState<string | undefined>(undefined)
  // a completed execution has nothing that failed (unless a foreach's items did): its first node is the likely
  // wish; the nodes may arrive after the form, so the default follows them until someone chooses
  const from = chosen ?? (status === 'completed' && nodes[0] !== undefined ? nodes[0] : 'failed')
  const [version, setVersion] = useState<'pinned' | 'latest'>('pinned')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const reply = await api<RunReply>('POST', `${path(id)}/rerun`, { body: { from, version } })
      navigate(href('/executions', reply.execution_id))
    } catch (err) {
      setError(messageOf(err))
      setBusy(false)
    }
  }

  return (
    <form class="toolbar exec-rerun" aria-label="Re-run this execution" onSubmit={(e) => void submit(e)}>
      <label>
        From node
        <select value={from} onChange={(e) => setFrom(e.currentTarget.value)}>
          <option value="failed">Where it failed (default)</option>
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <label>
        Version
        <select value={version} onChange={(e) => setVersion(e.currentTarget.value === 'latest' ? 'latest' : 'pinned')}>
          <option value="pinned">Pinned: revision {revision}</option>
          <option value="latest">The flow's latest</option>
        </select>
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Re-run
      </button>
      <ErrorAlert message={error} />
    </form>
  )
}
