import { logout, type Session } from './auth/session.js'

const LINKS: ReadonlyArray<{ path: string; label: string; admin?: boolean }> = [
  { path: '/flows', label: 'Flows' },
  { path: '/executions', label: 'Executions' },
  { path: '/secrets', label: 'Secrets' },
  { path: '/accounts', label: 'Accounts', admin: true },
  { path: '/gateway', label: 'Gateway' }
]

/** The console's top bar: its places, the account, and logout. */
export function Nav({ path, session }: { path: string; session: Session }) {
  const admin = session.account.role === 'admin'
  return (
    <header class="topbar">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <a class="brand" href="#/flows">
        Evercycle console
      </a>
      <nav aria-label="Main">
        <ul>
          {LINKS.filter((l) => admin || l.admin !== true).map((l) => (
            <li key={l.path}>
              <a href={`#${l.path}`} aria-current={path === l.path || path.startsWith(`${l.path}/`) ? 'page' : undefined}>
                {l.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="account">
        <a href="#/account" title="Your account">
          {session.account.name || session.account.email}
        </a>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    </header>
  )
}
