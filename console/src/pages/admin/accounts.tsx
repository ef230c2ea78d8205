import { useState } from 'preact/hooks'
import { api } from '../../api/client.js'
import { messageOf } from '../../api/errors.js'
import type { Account, Role } from '../../api/types.js'
import { session } from '../../auth/session.js'
import { navigate, withQuery, type Match } from '../../router.js'
import { useStore } from '../../store.js'
import { ErrorAlert, Notice } from '../../ui/alert.js'
import { when } from '../../ui/format.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { accountPath, listAccounts } from './accounts-api.js'
import { InlineConfirm } from './confirm.js'
import { Pager } from '../../ui/pager.js'

const LIMIT = 20
const ROLES: readonly Role[] = ['user', 'admin']

function roleOf(value: string | null): Role | undefined {
  return value === 'admin' || value === 'user' ? value : undefined
}

/** Admins only (the route is hidden from users, and the API refuses them anyway): every account, paged. */
export function AccountsPage({ match }: { match: Match }) {
  const me = useStore(session)?.account
  const offset = Math.max(0, Number.parseInt(match.query.get('offset') ?? '0', 10) || 0)
  const role = roleOf(match.query.get('role'))
  const list = useAsync((signal) => listAccounts({ limit: LIMIT, offset, role, signal }), [offset, role])
  const [notice, setNotice] = useState<string | undefined>(undefined)

  const go = (next: { offset?: number; role?: Role | undefined }): void => {
    const r = 'role' in next ? next.role : role
    const o = next.offset ?? offset
    navigate(withQuery('#/accounts', { role: r, offset: o === 0 ? undefined : String(o) }), { replace: true })
  }
  const done = (message: string): void => {
    setNotice(message)
    list.reload()
  }

  return (
    <Page title="Accounts" actions={<button type="button" onClick={list.reload} disabled={list.loading}>Refresh</button>}>
      {notice === undefined ? null : <Notice>{notice}</Notice>}
      <CreateAccount onDone={(a) => done(`Created the account ${a.email} (${a.role}).`)} />
      <h2 id="accounts-heading">All accounts</h2>
      <div class="toolbar">
        {/* labels beside selects, not around them: wrapped, the options would join the select's name */}
        <div class="admin-field">
          <label for="accounts-show">Show</label>
          <select id="accounts-show" value={role ?? ''} onChange={(e) => go({ role: roleOf(e.currentTarget.value), offset: 0 })}>
            <option value="">Every role</option>
            <option value="admin">Admins</option>
            <option value="user">Users</option>
          </select>
        </div>
      </div>
      <ErrorAlert message={list.error} />
      {list.data === undefined ? (
        list.error === undefined ? <p aria-busy="true">Loading…</p> : null
      ) : list.data.accounts.length === 0 ? (
        <p>No accounts here.</p>
      ) : (
        <>
          <AccountTable accounts={list.data.accounts} meId={me?.id} onDone={done} />
          <Pager label="Accounts pages" total={list.data.total} limit={LIMIT} offset={offset} onOffset={(o) => go({ offset: o })} />
        </>
      )}
    </Page>
  )
}

function CreateAccount({ onDone }: { onDone: (account: Account) => void }) {
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<Role>('user')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const created = await api<Account>('POST', '/api/v1/accounts', { body: { name: name.trim(), email: email.trim(), password, role } })
      setName('')
      setEmail('')
      setPassword('')
      setRole('user')
      onDone(created)
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form class="card admin-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-account-heading">
      <h2 id="new-account-heading">New account</h2>
      <div class="admin-fields">
        <label>
          Name
          <input name="name" required maxLength={200} autocomplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Email
          <input name="email" type="email" required autocomplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            required
            minLength={8}
            autocomplete="new-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <div class="admin-field">
          <label for="new-account-role">Role</label>
          <select id="new-account-role" name="role" value={role} onChange={(e) => setRole(roleOf(e.currentTarget.value) ?? 'user')}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Create account
        </button>
      </div>
      <p class="muted">The email is also the login. Passwords have at least 8 characters.</p>
      <ErrorAlert message={error} />
    </form>
  )
}

function AccountTable({ accounts, meId, onDone }: { accounts: Account[]; meId: string | undefined; onDone: (message: string) => void }) {
  const [deleting, setDeleting] = useState<string | undefined>(undefined)
  // a role picked in a row but not saved yet, by account id
  const [roles, setRoles] = useState<Record<string, Role>>({})
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const run = async (call: () => Promise<unknown>, message: string): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      await call()
      setDeleting(undefined)
      setRoles({})
      onDone(message)
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <ErrorAlert message={error} />
      <div class="table-wrap">
        <table class="admin-table" aria-labelledby="accounts-heading">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => {
              const self = a.id === meId
              const picked = roles[a.id] ?? a.role
              return (
                <tr key={a.id}>
                  <th scope="row">
                    {a.name}
                    {self ? <span class="muted"> (you)</span> : null}
                  </th>
                  <td>{a.email}</td>
                  <td>
                    {self ? (
                      // demoting yourself would lock you out of this page mid-session; another admin can do it
                      a.role
                    ) : (
                      <div class="admin-row-actions">
                        <select aria-label={`Role of ${a.email}`} value={picked} onChange={(e) => setRoles({ ...roles, [a.id]: roleOf(e.currentTarget.value) ?? a.role })}>
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                        {picked === a.role ? null : (
                          <button
                            type="button"
                            class="primary"
                            disabled={busy}
                            aria-label={`Save the role of ${a.email}`}
                            onClick={() => void run(() => api('PUT', accountPath(a.id), { body: { role: picked } }), `${a.email} is now ${picked === 'admin' ? 'an admin' : 'a user'}.`)}
                          >
                            Save role
                          </button>
                        )}
                      </div>
                    )}
                  </td>
                  <td>{when(a.created_at)}</td>
                  <td>
                    {self ? (
                      <span class="muted">—</span>
                    ) : deleting === a.id ? (
                      <InlineConfirm
                        question={`Delete ${a.email} with their flows and secrets?`}
                        confirmLabel={`Delete ${a.email} permanently`}
                        busy={busy}
                        onConfirm={() => void run(() => api('DELETE', accountPath(a.id)), `Deleted the account ${a.email}.`)}
                        onCancel={() => setDeleting(undefined)}
                      />
                    ) : (
                      <button type="button" class="danger" aria-label={`Delete ${a.email}`} onClick={() => setDeleting(a.id)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
    </>
  )
}
