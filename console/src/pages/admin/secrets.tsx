import { useState } from 'preact/hooks'
import { api } from '../../api/client.js'
import { messageOf } from '../../api/errors.js'
import type { Account, SecretInfo } from '../../api/types.js'
import { session } from '../../auth/session.js'
import { navigate, withQuery, type Match } from '../../router.js'
import { useStore } from '../../store.js'
import { ErrorAlert, Notice } from '../../ui/alert.js'
import { when } from '../../ui/format.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { accountLabel, accountPath, allAccounts } from './accounts-api.js'
import { InlineConfirm } from './confirm.js'

/** The API refuses shorter values (422) so that a flow's output can mask them; said up front to save a round trip. */
const MIN_VALUE = 8

/**
 * An account's secrets: keys and dates only. Values go to the server and are never read back, so a value
 * field is a password input, emptied once the server has it. Admins may manage any account's secrets
 * (the API allows it), chosen with `?account=<id>` so the choice survives a reload.
 */
export function SecretsPage({ match }: { match: Match }) {
  const me = useStore(session)?.account
  const admin = me?.role === 'admin'
  const accountId = (admin ? match.query.get('account') : null) ?? me?.id ?? ''
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const list = useAsync((signal) => api<{ secrets: SecretInfo[] }>('GET', accountPath(accountId, 'secrets'), { signal }), [accountId])
  const accounts = useAsync((signal) => (admin ? allAccounts(signal) : Promise.resolve<Account[]>([])), [admin])

  // the account list too: one created since the page opened shows up in the picker
  const refresh = (): void => {
    list.reload()
    accounts.reload()
  }
  const done = (message: string): void => {
    setNotice(message)
    list.reload()
  }

  return (
    <Page title="Secrets" actions={<button type="button" onClick={refresh} disabled={list.loading}>Refresh</button>}>
      <p class="muted">
        Flows read a secret as <code>{'{{ secrets.KEY }}'}</code>. Values are stored encrypted and never shown again: to change one, replace it.
      </p>
      {admin ? (
        <AccountPicker accountId={accountId} me={me} accounts={accounts.data} error={accounts.error} />
      ) : null}
      {notice === undefined ? null : <Notice>{notice}</Notice>}
      <CreateSecret accountId={accountId} onDone={(key) => done(`Stored the secret ${key}.`)} />
      <h2 id="secrets-heading">Stored secrets</h2>
      <ErrorAlert message={list.error} />
      {list.data === undefined ? (
        list.error === undefined ? <p aria-busy="true">Loading…</p> : null
      ) : list.data.secrets.length === 0 ? (
        <p>No secrets yet.</p>
      ) : (
        <SecretTable accountId={accountId} secrets={list.data.secrets} onDone={done} />
      )}
    </Page>
  )
}

function AccountPicker({ accountId, me, accounts, error }: { accountId: string; me: Account | undefined; accounts: Account[] | undefined; error: string | undefined }) {
  // until the list arrives (or if it fails) the current choice is still offered, so the select is never empty
  const options = accounts ?? (me === undefined ? [] : [me])
  const pick = (id: string): void => navigate(withQuery('#/secrets', { account: id === me?.id ? undefined : id }), { replace: true })
  return (
    <div class="toolbar">
      {/* a label beside the select, not around it: wrapped, its options would join the select's name */}
      <div class="admin-field">
        <label for="secrets-account">Account</label>
        <select id="secrets-account" value={accountId} onChange={(e) => pick(e.currentTarget.value)}>
          {options.some((a) => a.id === accountId) ? null : <option value={accountId}>{accountId}</option>}
          {options.map((a) => (
            <option key={a.id} value={a.id}>
              {accountLabel(a)}
              {a.id === me?.id ? ' (you)' : ''}
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert message={error === undefined ? undefined : `Could not list the accounts: ${error}`} />
    </div>
  )
}

function CreateSecret({ accountId, onDone }: { accountId: string; onDone: (key: string) => void }) {
  const [key, setKey] = useState('')
  const [value, setValue] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const saved = await api<SecretInfo>('POST', accountPath(accountId, 'secrets'), { body: { key: key.trim(), value } })
      setKey('')
      setValue('')
      onDone(saved.key)
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form class="card admin-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-secret-heading">
      <h2 id="new-secret-heading">New secret</h2>
      <div class="admin-fields">
        <label>
          Key
          <input
            name="key"
            required
            pattern="[A-Za-z_][A-Za-z0-9_]{0,127}"
            title="Letters, digits and _, not starting with a digit"
            autocomplete="new-password"
            spellcheck={false}
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </label>
        <label>
          Value
          <input
            name="value"
            type="password"
            autocomplete="new-password"
            required
            minLength={MIN_VALUE}
            aria-describedby="new-secret-hint"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Store secret
        </button>
      </div>
      <p id="new-secret-hint" class="muted">
        Key: letters, digits and _, not starting with a digit. Value: at least {MIN_VALUE} characters.
      </p>
      <ErrorAlert message={error} />
    </form>
  )
}

function SecretTable({ accountId, secrets, onDone }: { accountId: string; secrets: SecretInfo[]; onDone: (message: string) => void }) {
  // one row at a time is being replaced or deleted: opening another closes the first
  const [open, setOpen] = useState<{ key: string; action: 'replace' | 'delete' } | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const run = async (call: () => Promise<unknown>, message: string): Promise<boolean> => {
    setBusy(true)
    setError(undefined)
    try {
      await call()
      setOpen(undefined)
      onDone(message)
      return true
    } catch (err) {
      setError(messageOf(err))
      return false
    } finally {
      setBusy(false)
    }
  }

  const show = (key: string, action: 'replace' | 'delete'): void => {
    setError(undefined)
    setOpen({ key, action })
  }

  return (
    <>
      <ErrorAlert message={error} />
      <div class="table-wrap">
        <table class="admin-table" aria-labelledby="secrets-heading">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Updated</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {secrets.map((s) => (
              <tr key={s.key}>
                <th scope="row">
                  <code>{s.key}</code>
                </th>
                <td>{when(s.created_at)}</td>
                <td>{when(s.updated_at)}</td>
                <td>
                  {open?.key === s.key && open.action === 'replace' ? (
                    <ReplaceValue
                      secretKey={s.key}
                      busy={busy}
                      onSave={(value) => run(() => api('PUT', accountPath(accountId, 'secrets', s.key), { body: { value } }), `Replaced the value of ${s.key}.`)}
                      onCancel={() => setOpen(undefined)}
                    />
                  ) : open?.key === s.key && open.action === 'delete' ? (
                    <InlineConfirm
                      question={`Delete ${s.key}? Flows that read it will fail.`}
                      confirmLabel={`Delete ${s.key} permanently`}
                      busy={busy}
                      onConfirm={() => void run(() => api('DELETE', accountPath(accountId, 'secrets', s.key)), `Deleted the secret ${s.key}.`)}
                      onCancel={() => setOpen(undefined)}
                    />
                  ) : (
                    <div class="admin-row-actions">
                      <button type="button" aria-label={`Replace value of ${s.key}`} onClick={() => show(s.key, 'replace')}>
                        Replace value
                      </button>
                      <button type="button" class="danger" aria-label={`Delete ${s.key}`} onClick={() => show(s.key, 'delete')}>
                        Delete
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}

function ReplaceValue({ secretKey, busy, onSave, onCancel }: { secretKey: string; busy: boolean; onSave: (value: string) => Promise<boolean>; onCancel: () => void }) {
  const [value, setValue] = useState('')
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    // emptied whatever the answer: a failed value is typed again rather than kept around in the page
    const sent = value
    setValue('')
    await onSave(sent)
  }
  return (
    <form class="admin-inline-form" onSubmit={(e) => void submit(e)}>
      <label>
        New value of {secretKey}
        <input
          type="password"
          autocomplete="new-password"
          required
          minLength={MIN_VALUE}
          autoFocus
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Save
      </button>
      <button type="button" disabled={busy} onClick={onCancel}>
        Cancel
      </button>
    </form>
  )
}
