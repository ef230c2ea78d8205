import t from 'tap'
import { startConsole } from '../helpers/console.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/flowrunner.js'

t.test('the console: its document carries a nonce CSP and no inline script; login reaches the flows page', async (t) => {
  const c = await startConsole(t)
  const res = await fetch(`${c.origin}/console/`)
  t.equal(res.status, 200)
  const csp = res.headers.get('content-security-policy') ?? ''
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1]
  t.ok(nonce, `a style nonce in ${csp}`)
  t.match(csp, /script-src 'self'(;|$)/)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)
  const html = await res.text()
  t.ok(html.includes(`content="${nonce ?? 'none'}"`), 'the page names its nonce for the styles CodeMirror injects')
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  t.notMatch(html, /\son[a-z]+=/i, 'no inline event handler')
  const again = await fetch(`${c.origin}/console/`)
  t.not(/'nonce-([^']+)'/.exec(again.headers.get('content-security-policy') ?? '')?.[1], nonce, 'a fresh nonce per request')

  const { page } = await c.open()
  const violations: string[] = []
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
  })
  await c.login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
  t.equal(await page.getByRole('heading', { level: 1 }).count(), 1)
  t.same(violations, [], 'no CSP violation')
})
