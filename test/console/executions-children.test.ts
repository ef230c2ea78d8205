import t from 'tap'
import type { Page } from 'playwright-core'
import { startConsole } from '../helpers/console.js'
import { createFlow, runFlow, waitFinal } from '../helpers/executions.js'
import { startReceiver } from '../helpers/receiver.js'

// A fan-out parent's page in Chromium through the real server: the children's progress moves on while one of
// them is held, the children table filters by status and links to each child, whose page links back.

function executionStatus(page: Page) {
  return page.locator('dt:text-is("Status") + dd')
}

t.test("a foreach parent shows its children's progress and each child", async (t) => {
  const receiver = await startReceiver(t)
  let release: () => void = () => undefined
  receiver.on('/item/0', { body: { ok: 0 } })
  receiver.on('/item/1', { body: { ok: 1 } })
  receiver.on('/item/2', { status: 400, body: { message: 'item 2 is refused' } })
  receiver.on('/item/3', { until: new Promise((resolve) => (release = () => resolve(undefined))), body: { ok: 3 } })
  const c = await startConsole(t, { env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` } })
  const token = c.fr.admin.token
  const child = await createFlow(c.fr, token, `
metadata: { name: One item }
nodes:
  call:
    type: http.request
    params: { url: "${receiver.url}/item/\${input.item}" }
`)
  const parentFlow = await createFlow(c.fr, token, `
metadata: { name: Every item }
nodes:
  each:
    type: foreach
    params:
      items: [0, 1, 2, 3]
      flow: ${child}
      concurrency: 4
`)
  const parent = await runFlow(c.fr, token, parentFlow)
  // three children end (one of them failed), the fourth is held at the receiver
  await receiver.arrival('/item/3')

  const { page } = await c.open()
  const violations: string[] = []
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
  })
  await c.login(page, c.fr.admin.email, c.fr.admin.password)
  await page.goto(`${c.origin}/console/#/executions/${parent}`)

  const children = page.getByRole('region', { name: 'Children' })
  await children.getByRole('progressbar', { name: '3 of 4 children ended' }).waitFor()
  t.equal(await children.getByRole('progressbar').getAttribute('value'), '3')
  t.equal(await children.getByRole('progressbar').getAttribute('max'), '4')
  await executionStatus(page).getByText('waiting', { exact: true }).waitFor()
  const table = children.getByRole('table', { name: 'Children, by item' })
  t.equal(await table.locator('tbody tr').count(), 4, 'one row per item')

  release()
  // no event reaches the parent's socket while its children run: the page polls them, and then the parent ends
  await children.getByRole('progressbar', { name: '4 of 4 children ended' }).waitFor()
  await executionStatus(page).getByText('completed', { exact: true }).waitFor()
  t.equal((await waitFinal(c.fr, token, parent)).status, 'completed', 'a failed item does not fail the parent (continue)')

  await children.getByLabel('Status of children').selectOption('failed')
  await table.locator('tbody tr').nth(1).waitFor({ state: 'detached' })
  const failedRow = table.locator('tbody tr')
  t.equal(await failedRow.count(), 1)
  t.equal((await failedRow.locator('td').nth(2).innerText()).trim(), '2', 'item 2 failed')
  await failedRow.getByRole('link').first().click()
  await page.waitForURL((url) => url.hash.startsWith('#/executions/exec-') && !url.hash.includes(parent))
  await executionStatus(page).getByText('failed', { exact: true }).waitFor()
  const parentLink = page.locator('dt:text-is("Parent") + dd').getByRole('link')
  t.equal(await parentLink.getAttribute('href'), `#/executions/${parent}`, 'the child links back to its parent')
  await page.getByRole('region', { name: 'Error' }).getByText(/400/).waitFor()
  t.same(violations, [], 'no CSP violation')
})
