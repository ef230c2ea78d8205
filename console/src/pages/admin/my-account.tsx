import { useEffect, useState } from 'preact/hooks'
import { api } from '../../api/client.js'
import { messageOf } from '../../api/errors.js'
import type { Account } from '../../api/types.js'
import { renewWithPassword, session, updateAccount } from '../../auth/session.js'
import type { Match } from '../../router.js'
import { createStore, useStore } from '../../store.js'
import { ErrorAlert, Notice } from '../../ui/alert.js'
import { when } from '../../ui/format.js'
import { Page } from '../../ui/page.js'
import { accountPath } from './accounts-api.js'

/**
 * Changing your password ends the token that asked (the API revokes every older one), so the console logs in
 * again with the new password. That swaps the session and remounts this page, so the confirmation lives
 * outside the component, set once the new session is in place and cleared when the page is left.
 */
const notice = createStore<string | undefined>(undefined)

export function MyAccountPage(_props: { match: Match }) {
  const me = useStore(session)?.account
  const shown = useStore(notice)
  useEffect(() => () => notice.set(undefined), [])
  if (me === undefined) return null
  return (
    <Page title="Your account">
      {shown === undefined ? null : <Notice>{shown}</Notice>}
      <dl class="facts card">
        <dt>Name</dt>
        <dd>{me.name}</dd>
        <dt>Email</dt>
        <dd>{me.email}</dd>
        <dt>Role</dt>
        <dd>{me.role}</dd>
        <dt>Since</dt>
        <dd>{when(me.created_at)}</dd>
      </dl>
      <RenameForm me={me} onDone={(m) => notice.set(m)} />
      <PasswordForm me={me} onDone={(m) => notice.set(m)} />
    </Page>
  )
}

function RenameForm({ me, onDone }: { me: Account; onDone: (message: string) => void }) {
  const [name, setName] = useState(me.name)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      // a name change needs no password and keeps the token
      updateAccount(await api<Account>('PUT', accountPath(me.id), { body: { name: name.trim() } }))
      onDone('Your name is changed.')
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="card admin-form" onSubmit={(e) => void submit(e)} aria-labelledby="rename-heading">
      <h2 id="rename-heading">Name</h2>
      <div class="admin-fields">
        <label>
          Display name
          <input required maxLength={200} autocomplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy || name.trim() === me.name}>
          Save name
        </button>
      </div>
      <ErrorAlert message={error} />
    </form>
  )
}

function PasswordForm({ me, onDone }: { me: Account; onDone: (message: string) => void }) {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [again, setAgain] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setError(undefined)
    if (next !== again) return setError('The new password and its confirmation differ.')
    setBusy(true)
    try {
      await api<Account>('PUT', accountPath(me.id), { body: { password: next, current_password: current } })
    } catch (err) {
      // a wrong current password is a 403 (and counts as a failed login), so the session survives it
      setError(messageOf(err))
      setBusy(false)
      return
    }
    setCurrent('')
    setNext('')
    setAgain('')
    try {
      await renewWithPassword(me.email, next)
    } catch (err) {
      setError(`Your password is changed, but logging in again failed: ${messageOf(err)}`)
      setBusy(false)
      return
    }
    onDone('Your password is changed. Other sessions of this account have ended.')
    setBusy(false)
  }

  return (
    <form class="card admin-form" onSubmit={(e) => void submit(e)} aria-labelledby="password-heading">
      <h2 id="password-heading">Change your password</h2>
      {/* lets password managers file the new password under the right account */}
      <input type="email" class="sr-only" autocomplete="username" value={me.email} readOnly tabIndex={-1} aria-hidden="true" />
      <div class="admin-fields admin-fields-column">
        <label>
          Current password
          <input type="password" required autocomplete="current-password" value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
        </label>
        <label>
          New password
          <input
            type="password"
            required
            minLength={8}
            autocomplete="new-password"
            aria-describedby="password-hint"
            value={next}
            onInput={(e) => setNext(e.currentTarget.value)}
          />
        </label>
        <label>
          Confirm new password
          <input type="password" required minLength={8} autocomplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
        </label>
      </div>
      <p id="password-hint" class="muted">
        At least 8 characters. Changing it logs out your other sessions.
      </p>
      <ErrorAlert message={error} />
      <button type="submit" class="primary" disabled={busy}>
        Change password
      </button>
    </form>
  )
}
