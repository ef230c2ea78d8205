import { LoginPage } from './auth/login-page.js'
import { session } from './auth/session.js'
import { Nav } from './nav.js'
import { match, navigate, useLocation } from './router.js'
import { ROUTES } from './routes.js'
import { useStore } from './store.js'
import { Page } from './ui/page.js'

export function App() {
  const s = useStore(session)
  const { path, query } = useLocation()
  if (s === undefined) return <LoginPage />
  if (path === '/') {
    navigate('#/flows', { replace: true })
    return null
  }
  const allowed = ROUTES.filter((r) => r.admin !== true || s.account.role === 'admin')
  const m = match(
    allowed.map((r) => r.pattern),
    path,
    query
  )
  const route = m === undefined ? undefined : allowed.find((r) => r.pattern === m.pattern)
  return (
    <>
      <Nav path={path} session={s} />
      <main id="main" tabIndex={-1}>
        {route === undefined || m === undefined ? (
          <Page title="Not found">
            <p>
              There is no page here. <a href="#/flows">Go to the flows.</a>
            </p>
          </Page>
        ) : (
          <route.page key={m.pattern + JSON.stringify(m.params)} match={m} />
        )}
      </main>
    </>
  )
}
