import { useEffect, useRef, useState } from 'preact/hooks'
import { messageOf } from '../../api/errors.js'
import { navigate } from '../../router.js'
import { ErrorAlert } from '../../ui/alert.js'
import { deleteFlow } from './api.js'

/** Deleting takes every revision and execution with it (docs/flows.md), so it asks once more before it happens. */
export function DeleteFlow({ flowId, name }: { flowId: string; name: string }) {
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const keep = useRef<HTMLButtonElement>(null)
  const ask = useRef<HTMLButtonElement>(null)
  const asked = useRef(false)
  // Focus follows the question: to the safe answer when it appears, back to the button when it goes.
  useEffect(() => {
    if (confirming) keep.current?.focus()
    else if (asked.current) ask.current?.focus()
    asked.current = asked.current || confirming
  }, [confirming])

  const remove = async (): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      await deleteFlow(flowId)
      navigate('#/flows')
    } catch (err) {
      setError(`Not deleted: ${messageOf(err)}`)
      setBusy(false)
    }
  }

  return (
    <section class="flow-delete" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete</h2>
      {confirming ? (
        <div role="group" aria-labelledby="delete-question">
          <p id="delete-question">
            Delete <strong>{name}</strong> with all its revisions, triggers and executions? This cannot be undone.
          </p>
          <button type="button" class="danger" onClick={() => void remove()} disabled={busy}>
            Yes, delete this flow
          </button>{' '}
          <button type="button" ref={keep} onClick={() => setConfirming(false)} disabled={busy}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" ref={ask} class="danger" onClick={() => setConfirming(true)}>
          Delete flow…
        </button>
      )}
      <ErrorAlert message={error} />
    </section>
  )
}
