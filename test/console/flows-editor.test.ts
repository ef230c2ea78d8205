import t from 'tap'
import { startConsole } from '../helpers/console.js'
import { BAD_FLOW, BAD_LINE, GOOD_FLOW, pasteInto } from './flows-fixtures.js'

t.test('flow editor: validation as one types marks the line, save creates then versions the flow, the graph and the diff show it', async (t) => {
  const c = await startConsole(t)
  const { page } = await c.open()
  const violations: string[] = []
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
  })
  await c.login(page, c.fr.admin.email, c.fr.admin.password)

  await page.getByRole('button', { name: 'New flow', exact: true }).click()
  await page.waitForURL(/#\/flows\/new$/)
  await pasteInto(page, 'Flow definition', BAD_FLOW)
  const problem = page.getByText(new RegExp(`^Line ${BAD_LINE}: nodes\\.check\\.type`))
  await problem.waitFor()
  t.pass(`the problem names line ${BAD_LINE}: ${await problem.textContent()}`)
  const marked = page.locator('.flow-yaml .cm-line.cm-problem-line')
  await marked.first().waitFor()
  t.equal(await marked.count(), 1, 'one line marked')
  t.match(await marked.textContent(), /type: no_such_type/, 'the marked line is the one with the problem')
  t.equal(await page.locator('.flow-yaml .cm-lint-marker-error').count(), 1, 'a lint marker in the gutter')

  // The fix is typed, as a person would: select the bad type's word and type over it.
  await page.getByRole('textbox', { name: 'Flow definition', exact: true }).getByText('no_such_type').dblclick()
  await page.keyboard.type('condition')
  await page.getByText('No problems found.').waitFor()
  t.equal(await marked.count(), 0, 'no line marked once fixed')
  t.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Console flow', 'the Name field is metadata.name')

  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Saved: revision 1' }).waitFor()
  const id = /#\/flows\/([^/?]+)$/.exec(page.url())?.[1]
  t.ok(id !== undefined && id !== 'new', `the URL names the new flow: ${page.url()}`)
  const stored = await c.fr.request('GET', `/api/v1/flows/${id}`, { token: c.fr.admin.token })
  t.equal(stored.statusCode, 200)
  t.equal((stored.json() as { name: string }).name, 'Console flow')
  t.equal((stored.json() as { definition: string }).definition, GOOD_FLOW, 'the typed fix saved as written')

  const graph = page.getByRole('group', { name: 'Graph of Console flow' })
  for (const node of ['start, transform', 'check, condition', 'big, transform', 'small, transform']) {
    await graph.getByRole('img', { name: node, exact: true }).waitFor()
  }
  t.pass('the graph shows every node')
  t.equal(await graph.getByText('true', { exact: true }).count(), 1, 'an edge labelled with its action')
  t.equal(await graph.getByText('default', { exact: true }).count(), 1)

  // The Name field writes metadata.name into the YAML; a second save is revision 2.
  await page.getByLabel('Name', { exact: true }).fill('Console flow two')
  await page.getByRole('textbox', { name: 'Flow definition' }).getByText('name: Console flow two').waitFor()
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Saved: revision 2' }).waitFor()
  t.pass('saved again as revision 2')

  await page.getByRole('link', { name: 'Versions', exact: true }).click()
  await page.waitForURL(new RegExp(`#/flows/${id}/versions$`))
  await page.getByRole('cell', { name: 'Revision 2', exact: true }).waitFor()
  t.equal(await page.getByRole('cell', { name: /^Revision \d$/ }).count(), 2, 'two revisions listed')
  const left = page.getByRole('textbox', { name: 'Revision 1', exact: true })
  const right = page.getByRole('textbox', { name: 'Revision 2', exact: true })
  await left.getByText('name: Console flow', { exact: true }).waitFor()
  await right.getByText('name: Console flow two', { exact: true }).waitFor()
  t.pass('the diff shows both sides')
  t.ok((await page.locator('.cm-mergeView .cm-changedLine').count()) > 0, 'the changed line is marked')
  t.same(violations, [], 'no CSP violation')
})
