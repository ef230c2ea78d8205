import { useState } from 'preact/hooks'
import { messageOf } from '../../api/errors.js'
import type { Trigger } from '../../api/types.js'
import { href } from '../../router.js'
import { ErrorAlert, Notice } from '../../ui/alert.js'
import { relative, when } from '../../ui/format.js'
import { useAsync } from '../../ui/use-async.js'
import { listTriggers, setTriggerEnabled } from './api.js'

/** The flow's schedules and webhooks (from its saved definition); nothing is shown when it has none. */
export function TriggersPanel({ flowId, reloadKey }: { flowId: string; reloadKey: unknown }) {
  const triggers = useAsync((signal) => listTriggers(flowId, signal), [flowId, reloadKey])
  const [error, setError] = useState<string>()
  const [notice, setNotice] = useState<string>()
  if (triggers.data === undefined || triggers.data.length === 0) return <ErrorAlert message={triggers.error} />

  const toggle = async (t: Trigger): Promise<void> => {
    setError(undefined)
    setNotice(undefined)
    try {
      await setTriggerEnabled(flowId, t.id, !t.enabled)
      setNotice(`Trigger ${t.id} ${t.enabled ? 'paused' : 'resumed'}.`)
      triggers.reload()
    } catch (err) {
      setError(`Could not change trigger ${t.id}: ${messageOf(err)}`)
    }
  }
  const copy = async (t: Trigger): Promise<void> => {
    setError(undefined)
    setNotice(undefined)
    try {
      await navigator.clipboard.writeText(webhookUrl(t))
      setNotice(`Copied the webhook URL of ${t.id}.`)
    } catch (err) {
      setError(`Could not copy: ${messageOf(err)}`)
    }
  }

  return (
    <section class="flow-triggers" aria-labelledby="triggers-heading">
      <h2 id="triggers-heading">Triggers</h2>
      <ErrorAlert message={error ?? triggers.error} />
      {notice === undefined ? null : <Notice>{notice}</Notice>}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Trigger</th>
              <th scope="col">Schedule or URL</th>
              <th scope="col">Next fire</th>
              <th scope="col">Last fire</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {triggers.data.map((t) => (
              <tr key={t.id}>
                <td>
                  <span class="mono">{t.id}</span> <span class="muted">{t.type}</span>
                </td>
                <td>
                  {t.type === 'schedule' ? (
                    <>
                      <code>{t.cron}</code> <span class="muted">{t.timezone ?? 'UTC'}</span>
                    </>
                  ) : (
                    <code class="break">{webhookUrl(t)}</code>
                  )}
                </td>
                <td>{t.next_fire_at === null ? '—' : `${when(t.next_fire_at)} (${relative(t.next_fire_at)})`}</td>
                <td>
                  {when(t.last_fire_at)}
                  {t.last_execution_id === null ? null : (
                    <>
                      {' '}
                      <a href={href('/executions', t.last_execution_id)}>execution</a>
                    </>
                  )}
                </td>
                <td>{t.enabled ? 'Active' : 'Paused'}</td>
                <td class="row-actions">
                  <button type="button" onClick={() => void toggle(t)} aria-label={`${t.enabled ? 'Pause' : 'Resume'} trigger ${t.id}`}>
                    {t.enabled ? 'Pause' : 'Resume'}
                  </button>
                  {t.type === 'webhook' ? (
                    <button type="button" onClick={() => void copy(t)}>
                      Copy webhook URL
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

/** The API gives a webhook's path; people paste a whole URL. */
function webhookUrl(t: Trigger): string {
  return t.url === null ? '' : new URL(t.url, location.origin).toString()
}
