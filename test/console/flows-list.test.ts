import t from 'tap'
import { startConsole } from '../helpers/console.js'
import { GOOD_FLOW } from './flows-fixtures.js'

type Doc = { document: { scrollingElement: { scrollWidth: number } } }

t.test('flows list: search and tag filter, links to the editor and the executions; another account sees none of it', async (t) => {
  const c = await startConsole(t)
  const ids: Record<string, string> = {}
  for (const [name, description, tags] of [
    ['Invoice sync', 'Sends invoices to the ledger', ['billing']],
    ['Asset report', 'Counts the active assets', ['reports', 'assets']],
    ['Nightly cleanup', 'Removes old invoices', ['billing', 'ops']]
  ] as const) {
    const definition = GOOD_FLOW.replace('name: Console flow', `name: ${name}`).replace('description: Made in the browser', `description: ${description}`)
    const res = await c.fr.request('POST', '/api/v1/flows', { token: c.fr.admin.token, body: { definition, tags } })
    t.equal(res.statusCode, 201)
    ids[name] = (res.json() as { id: string }).id
  }

  const { page } = await c.open()
  await c.login(page, c.fr.admin.email, c.fr.admin.password)
  const rows = page.getByRole('table').getByRole('row')
  await page.getByRole('link', { name: 'Invoice sync', exact: true }).waitFor()
  t.equal(await rows.count(), 4, 'three flows and the header')

  await page.getByLabel('Search').fill('invoices')
  await page.getByText('2 of 3 flows match').waitFor()
  t.ok(await page.getByRole('link', { name: 'Nightly cleanup', exact: true }).isVisible(), 'found by its description')
  t.equal(await page.getByRole('link', { name: 'Asset report', exact: true }).count(), 0)

  await page.getByLabel('Search').fill('')
  await page.getByLabel('Tag').selectOption('assets')
  await page.getByText('1 of 3 flows match').waitFor()
  t.ok(await page.getByRole('link', { name: 'Asset report', exact: true }).isVisible(), 'the tag filter')
  t.match(page.url(), /#\/flows\?tag=assets$/, 'the filter is in the URL')
  t.equal(
    await page.getByRole('link', { name: 'Executions of Asset report' }).getAttribute('href'),
    `#/executions?flow_id=${ids['Asset report']}`,
    "a link to the flow's executions"
  )
  await page.getByRole('link', { name: 'Asset report', exact: true }).click()
  await page.waitForURL(new RegExp(`#/flows/${ids['Asset report']}$`))
  await page.getByRole('heading', { name: 'Flow: Asset report' }).waitFor()
  t.pass('the row opens the editor')

  const user = await c.fr.createUser()
  const other = await c.open()
  await c.login(other.page, user.email, user.password)
  await other.page.getByText('No flows yet.').waitFor()
  t.equal(await other.page.getByRole('link', { name: 'Invoice sync', exact: true }).count(), 0, "not the admin's flows")
  await other.page.goto(`${c.origin}/console/#/flows/${ids['Invoice sync']}`)
  await other.page.getByRole('heading', { name: 'Flow not found' }).waitFor()
  t.equal(await other.page.getByRole('textbox', { name: 'Flow definition' }).count(), 0, 'no editor for it')
  await other.page.goto(`${c.origin}/console/#/flows/${ids['Invoice sync']}/versions`)
  await other.page.getByRole('heading', { name: 'Flow not found' }).waitFor()
  t.pass('nor its versions')
})

t.test('flow editor at 390 px: stacked, readable, no page-wide horizontal scroll; graph nodes are focusable', async (t) => {
  const c = await startConsole(t)
  const res = await c.fr.request('POST', '/api/v1/flows', { token: c.fr.admin.token, body: { definition: GOOD_FLOW } })
  const id = (res.json() as { id: string }).id
  const { page } = await c.open({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' })
  await c.login(page, c.fr.admin.email, c.fr.admin.password)
  await page.goto(`${c.origin}/console/#/flows/${id}`)
  const editor = page.getByRole('textbox', { name: 'Flow definition', exact: true })
  await editor.getByText('name: Console flow').waitFor()
  const node = page.getByRole('group', { name: 'Graph of Console flow' }).getByRole('img', { name: 'check, condition', exact: true })
  await node.waitFor()
  const editorBox = await editor.boundingBox()
  const nodeBox = await node.boundingBox()
  t.ok(editorBox !== null && nodeBox !== null && nodeBox.y > editorBox.y, 'the graph below the YAML')
  t.ok((nodeBox?.x ?? -1) >= 0 && (nodeBox?.x ?? 0) + (nodeBox?.width ?? 0) <= 390, 'the graph fits the width')
  const width = await page.evaluate(() => (globalThis as unknown as Doc).document.scrollingElement.scrollWidth)
  t.ok(width <= 390, `no horizontal scroll of the page (${width} px)`)
  await node.focus()
  t.equal(await node.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement), true, 'a node takes focus')
})
