import t from 'tap'
import type { Page } from 'playwright-core'
import { DEMO_PASSWORD } from '../../dev/simulator/simulator.js'
import { startConsole } from '../helpers/console.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/flowrunner.js'
import { startSimulator } from '../helpers/gateway.js'

const STATUS_PATH = '/api/v1/gateway/status'

/** Every response body the page received, read as it arrives; `settled()` waits for the reads in flight. */
function recordBodies(page: Page): { bodies: string[]; settled: () => Promise<unknown> } {
  const bodies: string[] = []
  const reads: Array<Promise<void>> = []
  page.on('response', (res) => {
    reads.push(
      res.text().then(
        (text) => void bodies.push(text),
        () => undefined // a redirect or an aborted request has no body to read
      )
    )
  })
  return { bodies, settled: () => Promise.all(reads) }
}

t.test('gateway status: signed in, health in words, a failed call listed, operations on demand, and never a token', async (t) => {
  const sim = await startSimulator(t)
  const c = await startConsole(t, { sim })
  // a gateway call signs the service identity in; a second one fails upstream and is recorded
  t.equal((await c.fr.request('GET', '/api/get-all')).statusCode, 200)
  sim.settings.bodyMode = 'error'
  t.equal((await c.fr.request('GET', '/api/get-asset-id?id=asset-1', { headers: { 'x-request-id': 'console-gw-1' } })).statusCode, 500)
  sim.reset()

  const { page, requests } = await c.open()
  const seen = recordBodies(page)
  await c.login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gateway' }).click()
  await page.getByRole('heading', { level: 1, name: 'Gateway status' }).waitFor()

  const token = page.getByRole('region', { name: 'Evercycle sign-in (service identity)' })
  await token.getByText('signed in', { exact: true }).waitFor()
  t.match(await token.textContent(), /Expires.*\(in .+\)/, 'the expiry with its relative time')
  t.match(await token.textContent(), /Next refresh/)

  const health = page.getByRole('region', { name: 'Health' })
  await health.getByText('alive', { exact: true }).waitFor()
  await health.getByText('ready', { exact: true }).waitFor()
  t.ok(await page.getByRole('link', { name: 'API documentation' }).isVisible())
  t.equal(await page.getByRole('link', { name: 'API documentation' }).getAttribute('href'), '/docs')

  const upstream = page.getByRole('region', { name: 'Evercycle upstream' })
  t.ok(await upstream.getByText(sim.url, { exact: true }).isVisible(), 'the base URL')
  t.ok(await upstream.getByText('closed', { exact: true }).isVisible(), "the breaker's state")

  const errors = page.getByRole('table', { name: 'Recent upstream errors' })
  const row = errors.getByRole('row').filter({ hasText: 'get-asset-id' })
  await row.waitFor()
  t.match(await row.textContent(), /500/)
  t.match(await row.textContent(), /console-gw-1/, 'the request id, to find it in the logs')

  // the operations list loads when opened
  t.equal(await page.getByRole('table', { name: 'Gateway operations' }).count(), 0)
  await page.getByText('Gateway operations', { exact: true }).click()
  await page.getByRole('table', { name: 'Gateway operations' }).getByRole('rowheader', { name: 'get-all', exact: true }).waitFor()

  // Refresh asks again at once; and with no click, the page asks again within its 10 s period
  const asked = page.waitForRequest((r) => r.url().endsWith(STATUS_PATH))
  await page.getByRole('button', { name: 'Refresh', exact: true }).click()
  await asked
  const again = await page.waitForRequest((r) => r.url().endsWith(STATUS_PATH), { timeout: 20_000 })
  t.ok(again, 'auto-refreshed')

  await seen.settled()
  const stored = await c.fr.app.tokens.peek()
  const secrets = [...sim.issued, stored?.accessToken, stored?.idToken, stored?.refreshToken, DEMO_PASSWORD].filter((s): s is string => s !== undefined && s !== '')
  t.ok(secrets.length >= 4, 'Evercycle issued tokens to look for')
  const html = await page.content()
  for (const secret of secrets) {
    t.notOk(html.includes(secret), 'no Evercycle token or password in the page')
    t.notOk(
      seen.bodies.some((b) => b.includes(secret)),
      'nor in any response it received'
    )
  }
  const probes = requests.filter((r) => /\/api\/(health|ready|list)$/.test(r.url))
  t.ok(probes.length >= 3)
  t.ok(
    probes.every((r) => r.headers.authorization === undefined),
    'the open probes are asked without the session token'
  )
})

t.test('gateway status: readable at 390 px wide, with no horizontal scrolling of the page', async (t) => {
  const sim = await startSimulator(t)
  const c = await startConsole(t, { sim })
  const { page } = await c.open({ viewport: { width: 390, height: 800 }, colorScheme: 'dark' })
  await c.login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
  await page.goto(`${c.origin}/console/#/gateway`)
  await page.getByRole('region', { name: 'Evercycle upstream' }).waitFor()
  t.ok((await page.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'the page fits')
})
