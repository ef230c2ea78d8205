import t from 'tap'
import type { Page } from 'playwright-core'
import { startConsole, type ConsoleHarness } from '../helpers/console.js'
import { createFlow, getExecution, runFlow, runToEnd, waitFinal } from '../helpers/executions.js'
import type { Tap } from '../helpers/flowrunner.js'

// A failed execution re-run from its page, and the executions list's filters, in Chromium through the real
// server; the pages read at a phone's width.

/** The execution's status as the page's summary shows it (the word, not a colour). */
function executionStatus(page: Page) {
  return page.locator('dt:text-is("Status") + dd')
}

/** The statuses the list's table shows, one per row. */
async function listedStatuses(page: Page): Promise<string[]> {
  const rows = page.getByRole('table', { name: 'Executions, newest first' }).getByRole('row')
  const cells = await rows.locator('td:nth-child(2)').allInnerTexts()
  return cells.map((s) => s.trim())
}

/** Waits until the list shows exactly one execution (the previous answer stays shown until the next one). */
async function oneRow(page: Page): Promise<void> {
  const rows = page.getByRole('table', { name: 'Executions, newest first' }).locator('tbody tr')
  await rows.nth(1).waitFor({ state: 'detached' })
  await rows.first().waitFor()
}

/** Nothing is wider than the viewport: the page reads without scrolling sideways (tables scroll in their box). */
async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth <= document.documentElement.clientWidth')
}

/** No request URL (HTTP or WebSocket) carries a token, and every one went to the console's own origin. */
async function checkRequests(t: Tap, c: ConsoleHarness, page: Page, urls: string[]): Promise<void> {
  // a string to evaluate: the tests' tsconfig has no DOM types
  const raw = await page.evaluate<string | null>("sessionStorage.getItem('evercycle-console-session')")
  const tokens = [c.fr.admin.token, (JSON.parse(raw ?? '{}') as { token: string }).token]
  t.ok(tokens[1] !== undefined && urls.length > 0)
  const own = new URL(c.origin).host
  t.same(urls.filter((url) => tokens.some((token) => url.includes(token))), [], 'no URL carries a token')
  t.same(urls.filter((url) => !['http:', 'ws:'].includes(new URL(url).protocol) || new URL(url).host !== own), [], `every URL is on ${c.origin}`)
}

async function signedIn(c: ConsoleHarness, options: Parameters<ConsoleHarness['open']>[0] = {}) {
  const opened = await c.open(options)
  const sockets: string[] = []
  opened.page.on('websocket', (ws) => sockets.push(ws.url()))
  const violations: string[] = []
  opened.page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
  })
  await c.login(opened.page, c.fr.admin.email, c.fr.admin.password)
  return { ...opened, violations, urls: () => [...opened.requests.map((r) => r.url), ...sockets] }
}

const FAILING = `
metadata: { name: Fails at boom }
nodes:
  start:
    type: transform
    params: { expression: '{"x": 1}' }
    next: { default: boom }
  boom:
    type: transform
    params: { expression: '$error("boom on purpose")' }
`

t.test('a failed execution shows where it failed, and Re-run opens the new execution', async (t) => {
  const c = await startConsole(t)
  const failed = await runToEnd(c.fr, c.fr.admin.token, FAILING)
  t.equal(failed.status, 'failed')
  const { page, violations, urls } = await signedIn(c)
  await page.goto(`${c.origin}/console/#/executions/${failed.id}`)

  await executionStatus(page).getByText('failed', { exact: true }).waitFor()
  const nodes = page.getByRole('table', { name: 'Nodes' })
  await nodes.getByRole('row').filter({ hasText: 'boom' }).getByText('failed', { exact: true }).waitFor()
  await nodes.getByRole('row').filter({ hasText: 'start' }).getByText('completed', { exact: true }).waitFor()
  await page.getByRole('region', { name: 'Error' }).getByText(/boom on purpose/).waitFor()
  t.equal(await page.getByRole('button', { name: 'Cancel execution' }).count(), 0, 'nothing to cancel once failed')

  // the failed node's own error, from the graph
  await page.getByRole('button', { name: /^boom, transform, failed/ }).click()
  await page.getByRole('region', { name: /^Node boom/ }).getByText(/boom on purpose/).first().waitFor()

  t.same(await page.getByLabel('From node').locator('option').allInnerTexts(), ['Where it failed (default)', 'start', 'boom'], 'the start node first')
  await page.getByLabel('Version').selectOption('pinned')
  await page.getByRole('button', { name: 'Re-run' }).click()
  await page.waitForURL((url) => /#\/executions\/exec-/.test(url.hash) && !url.hash.includes(failed.id))
  const rerunId = decodeURIComponent(new URL(page.url()).hash.replace('#/executions/', ''))
  await page.locator('dt:text-is("Re-run of") + dd').getByRole('link').waitFor()
  t.equal(await page.locator('dt:text-is("Re-run of") + dd').getByRole('link').getAttribute('href'), `#/executions/${failed.id}`)
  // it starts again at boom, which fails again: the page follows it to the end
  await executionStatus(page).getByText('failed', { exact: true }).waitFor()
  const rerun = await waitFinal(c.fr, c.fr.admin.token, rerunId)
  t.match(rerun, { rerun_of: failed.id, status: 'failed', node_id: 'boom' }, 'the API has the re-run')
  t.ok(urls().some((u) => u.endsWith(`/api/v1/executions/${failed.id}/rerun`)), 'the re-run went through the API')
  await checkRequests(t, c, page, urls())
  t.same(violations, [], 'no CSP violation')
})

t.test('the list filters by status and flow, kept in the URL; the pages read at 390 px', async (t) => {
  const c = await startConsole(t)
  const token = c.fr.admin.token
  const failed = await runToEnd(c.fr, token, FAILING)
  const quickFlow = await createFlow(c.fr, token, `
metadata: { name: Quick one }
nodes:
  start:
    type: transform
    params: { expression: '"ok"' }
`)
  const done = await waitFinal(c.fr, token, await runFlow(c.fr, token, quickFlow))
  const waitingFlow = await createFlow(c.fr, token, `
metadata: { name: Waits long }
nodes:
  start:
    type: delay
    params: { duration: 10m }
`)
  const waiting = await runFlow(c.fr, token, waitingFlow)

  const { page, violations } = await signedIn(c)
  await page.goto(`${c.origin}/console/#/executions`)
  const table = page.getByRole('table', { name: 'Executions, newest first' })
  await table.getByRole('link', { name: 'Quick one' }).waitFor()
  await table.getByRole('link', { name: 'Waits long' }).waitFor()
  t.equal(await table.getByRole('row').count(), 4, 'a header and three executions')

  await page.getByLabel('Status').selectOption('failed')
  await page.waitForURL((url) => url.hash === '#/executions?status=failed')
  await oneRow(page)
  t.same(await listedStatuses(page), ['failed'])
  t.equal(await table.getByRole('link', { name: 'Fails at boom' }).count(), 1)

  await page.getByLabel('Status').selectOption('')
  await page.getByLabel('Flow').selectOption({ label: 'Quick one' })
  await page.waitForURL((url) => url.hash === `#/executions?flow_id=${quickFlow}`)
  await oneRow(page)
  t.same(await listedStatuses(page), ['completed'])
  await table.getByRole('link', { name: done.id.slice(5, 13) }).click()
  await page.waitForURL((url) => url.hash === `#/executions/${done.id}`)
  await executionStatus(page).getByText('completed', { exact: true }).waitFor()

  // a reload keeps the filters
  await page.goto(`${c.origin}/console/#/executions?status=waiting`)
  await page.reload()
  t.equal(await page.getByLabel('Status').inputValue(), 'waiting')
  await oneRow(page)
  t.same(await listedStatuses(page), ['waiting'])

  // a phone's width: the list and an execution read without scrolling the page sideways
  const phone = await signedIn(c, { viewport: { width: 390, height: 800 } })
  await phone.page.goto(`${c.origin}/console/#/executions`)
  await phone.page.getByRole('table', { name: 'Executions, newest first' }).getByRole('link', { name: 'Waits long' }).waitFor()
  t.ok(await fitsWidth(phone.page), 'the list fits 390 px')
  await phone.page.goto(`${c.origin}/console/#/executions/${failed.id}`)
  await phone.page.getByRole('table', { name: 'Nodes' }).getByText('failed', { exact: true }).waitFor()
  t.ok(await fitsWidth(phone.page), 'an execution fits 390 px')

  await c.fr.request('DELETE', `/api/v1/executions/${waiting}`, { token })
  t.equal((await getExecution(c.fr, token, waiting)).status, 'cancelled')
  t.same([...violations, ...phone.violations], [], 'no CSP violation')
})
