import t from 'tap'
import type { Page } from 'playwright-core'
import { startConsole, storedToken } from '../helpers/console.js'
import { createFlow, runFlow, setSecret, waitFinal } from '../helpers/executions.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/flowrunner.js'
import { GOOD_FLOW } from './flows-fixtures.js'

/** The controls an accessible name is required on, as Chromium's accessibility tree names their roles. */
const CONTROLS = ['button', 'textbox', 'combobox', 'checkbox', 'link', 'spinbutton', 'searchbox', 'radio', 'listbox', 'switch', 'slider']
/** A control in an ARIA snapshot with no name: `- button` or `- textbox [disabled]`, not `- button "Save"`. */
const UNNAMED = new RegExp(`^\\s*- (${CONTROLS.join('|')})(?=\\s*(\\[|:|$))`, 'gm')

/** Loads a console route afresh (the session comes back from the tab) and waits for its data. */
async function visit(page: Page, origin: string, route: string): Promise<void> {
  await page.goto(`${origin}/console/#${route}`)
  await page.reload()
  await page.getByRole('heading', { level: 1 }).first().waitFor()
  await page.waitForLoadState('networkidle')
}

t.test('every console page: one heading, every control named, no CSP violation, only this origin, no token in a URL', async (t) => {
  const c = await startConsole(t)
  const { fr } = c
  const flowId = await createFlow(fr, fr.admin.token, GOOD_FLOW)
  const done = await waitFinal(fr, fr.admin.token, await runFlow(fr, fr.admin.token, flowId, { n: 7 }))
  await setSecret(fr, fr.admin, 'PAGES_SECRET', 'pages-secret-value-1')
  const routes = ['/flows', '/flows/new', `/flows/${flowId}`, `/flows/${flowId}/versions`, '/executions', `/executions/${done.id}`, '/secrets', '/accounts', '/account', '/gateway']

  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const { page, requests } = await c.open({ viewport })
    const violations: string[] = []
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
    })
    await c.login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    for (const route of routes) {
      await visit(page, c.origin, route)
      const where = `${route} at ${viewport.width} px`
      t.equal(await page.getByRole('heading', { level: 1 }).count(), 1, `${where}: one h1`)
      const snapshot = await page.locator('body').ariaSnapshot()
      t.same(snapshot.match(UNNAMED) ?? [], [], `${where}: every control has an accessible name`)
      t.notMatch(await page.content(), 'pages-secret-value-1', `${where}: no secret value`)
    }
    t.same(violations, [], `no CSP violation at ${viewport.width} px`)
    const token = await storedToken(page)
    t.ok(token, 'signed in throughout')
    const urls = requests.map((r) => r.url)
    t.same(urls.filter((u) => new URL(u).origin !== c.origin), [], 'every request went to this origin')
    t.same(urls.filter((u) => token !== undefined && u.includes(token)), [], 'no URL carries the token')
    t.same(urls.filter((u) => u.includes(fr.admin.token)), [], "nor the test's own token")
  }
})
