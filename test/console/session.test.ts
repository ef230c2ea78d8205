import t from 'tap'
import { SESSION_KEY, startConsole, storedToken } from '../helpers/console.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/flowrunner.js'

t.test('the console session: refreshed before expiry, kept in the tab only, ended by logout', async (t) => {
  // the shortest token life the server allows: the page refreshes it at three quarters of that
  const c = await startConsole(t, { env: { FLOWRUNNER_JWT_TTL: '60' } })
  const { page, requests } = await c.open()
  // the page's clock, so its refresh timer can be moved on without waiting 45 s
  await page.clock.install()
  await page.reload()
  await c.login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
  const stored = (): Promise<string | undefined> => storedToken(page)
  const first = await stored()
  t.ok(first, 'the token is in sessionStorage')
  // strings to evaluate: the tests' tsconfig has no DOM types
  t.same(await page.evaluate('({ local: localStorage.length, cookie: document.cookie })'), { local: 0, cookie: '' }, 'nothing in localStorage or a cookie')

  const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh'))
  await page.clock.fastForward(50_000)
  t.equal((await refreshed).status(), 200, 'refreshed before it expired')
  // the page keeps the new token once it has read the reply
  await page.waitForFunction(
    ([key, old]) => {
      const storage = (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage
      const raw = storage.getItem(key)
      return raw !== null && (JSON.parse(raw) as { token: string }).token !== old
    },
    [SESSION_KEY, first ?? ''] as const
  )
  const second = await stored()
  t.not(second, first, 'a new token')
  t.equal((await c.fr.request('GET', '/api/v1/flows', { token: first })).statusCode, 401, 'the old one is revoked')
  t.equal((await c.fr.request('GET', '/api/v1/flows', { token: second })).statusCode, 200)

  await page.reload()
  await page.getByRole('navigation', { name: 'Main' }).waitFor()
  t.pass('a reload keeps the session (same tab)')

  await page.getByRole('button', { name: 'Log out' }).click()
  await page.getByRole('button', { name: 'Log in' }).waitFor()
  t.equal(await stored(), undefined, 'logout clears the tab')
  t.equal((await c.fr.request('GET', '/api/v1/flows', { token: second })).statusCode, 401, 'and revokes the token')

  for (const r of requests) {
    t.equal(new URL(r.url).origin, c.origin, `${r.method} ${new URL(r.url).pathname} is this origin`)
    for (const token of [first, second]) if (token !== undefined) t.notOk(r.url.includes(token), 'no token in a URL')
  }
})
