import t from 'tap'
import type { Page } from 'playwright-core'
import { startConsole, storedToken, type ConsoleHarness, type SeenRequest } from '../helpers/console.js'
import { createFlow, getExecution, runFlow, waitFinal } from '../helpers/executions.js'
import type { Tap } from '../helpers/flowrunner.js'
import { startReceiver } from '../helpers/receiver.js'

// The execution page, live over its WebSocket, in Chromium through the real server: nodes turn completed as
// the engine runs them, and a waiting execution is cancelled from the page.

/** The session token the console keeps in this tab's sessionStorage. */
async function consoleToken(page: Page): Promise<string> {
  const token = await storedToken(page)
  if (token === undefined) throw new Error('the console holds no session')
  return token
}

/** No request URL (HTTP or WebSocket) carries a token, and every one went to the console's own origin. */
async function checkRequests(t: Tap, c: ConsoleHarness, page: Page, requests: SeenRequest[], sockets: string[]): Promise<void> {
  const tokens = [c.fr.admin.token, await consoleToken(page)]
  const own = new URL(c.origin).host
  const urls = [...requests.map((r) => r.url), ...sockets]
  t.ok(urls.length > 0 && sockets.length > 0, 'requests and a WebSocket were made')
  t.same(urls.filter((url) => tokens.some((token) => url.includes(token))), [], 'no URL carries a token')
  t.same(urls.filter((url) => !['http:', 'ws:'].includes(new URL(url).protocol) || new URL(url).host !== own), [], `every URL is on ${c.origin}`)
}

/** The row of the node table for one node. */
function nodeRow(page: Page, id: string) {
  return page.getByRole('table', { name: 'Nodes' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: id, exact: true }) })
}

/** The execution's status as the page's summary shows it (the word, not a colour). */
function executionStatus(page: Page) {
  return page.locator('dt:text-is("Status") + dd')
}

async function openExecution(c: ConsoleHarness, id: string) {
  const opened = await c.open()
  const sockets: string[] = []
  const frames: string[] = []
  opened.page.on('websocket', (ws) => {
    sockets.push(ws.url())
    ws.on('framereceived', (f) => frames.push(String(f.payload)))
  })
  const violations: string[] = []
  opened.page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
  })
  await c.login(opened.page, c.fr.admin.email, c.fr.admin.password)
  await opened.page.goto(`${c.origin}/console/#/executions/${id}`)
  return { ...opened, sockets, frames, violations }
}

t.test('the execution page follows a run live, node by node, then times and shows each node', async (t) => {
  const receiver = await startReceiver(t)
  let open: () => void = () => undefined
  receiver.on('/gate', { until: new Promise((resolve) => (open = () => resolve(undefined))), body: { passed: true } })
  const c = await startConsole(t, { env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` } })
  const flowId = await createFlow(
    c.fr,
    c.fr.admin.token,
    `
metadata: { name: Live console flow }
nodes:
  start:
    type: transform
    params: { expression: '{"a": 1}' }
    next: { default: gate }
  gate:
    type: http.request
    params: { url: "${receiver.url}/gate" }
    next: { default: pause }
  pause:
    type: delay
    params: { duration: 300ms }
    next: { default: finish }
  finish:
    type: transform
    params: { expression: '"done " & nodes.start.a' }
`
  )
  const id = await runFlow(c.fr, c.fr.admin.token, flowId)
  // the run is held at the gate: the page must see it there, then see the rest happen
  await receiver.arrival('/gate')
  const { page, requests, sockets, frames, violations } = await openExecution(c, id)

  await page.getByRole('heading', { level: 1, name: /^Execution / }).waitFor()
  await nodeRow(page, 'start').getByText('completed', { exact: true }).waitFor()
  await nodeRow(page, 'gate').getByText('running', { exact: true }).waitFor()
  t.equal(await nodeRow(page, 'pause').getByText('pending', { exact: true }).count(), 1, 'a node not reached yet is pending')
  t.equal(await executionStatus(page).innerText(), 'running')
  await page.getByRole('button', { name: /^gate, http\.request, running/ }).waitFor()

  open()
  for (const node of ['gate', 'pause', 'finish']) await nodeRow(page, node).getByText('completed', { exact: true }).waitFor()
  await executionStatus(page).getByText('completed', { exact: true }).waitFor()
  await page.getByRole('button', { name: /^finish, transform, completed/ }).waitFor()
  t.equal((await waitFinal(c.fr, c.fr.admin.token, id)).status, 'completed')
  t.ok(sockets.some((u) => u.endsWith(`/ws/executions/${id}`)), 'the page followed the execution over its WebSocket')
  t.ok(frames.some((f) => f.includes('"execution_completed"')), 'and got the final event there')

  // the delay's duration is the engine's, from its log: at least the 300 ms it waited
  await page.getByRole('region', { name: 'Logs' }).getByText('Node completed').first().waitFor()
  const pauseTime = await nodeRow(page, 'pause').getByRole('cell').nth(2).innerText()
  const ms = /^(\d+) ms$/.exec(pauseTime)?.[1] ?? /^([\d.]+) s$/.exec(pauseTime)?.[1]
  t.ok(ms !== undefined && (pauseTime.endsWith(' s') || Number(ms) >= 300), `the delay took at least 300 ms: ${pauseTime}`)

  // a node chosen from the table with the keyboard shows its result
  await nodeRow(page, 'start').getByRole('button', { name: 'start' }).focus()
  await page.keyboard.press('Enter')
  const detail = page.getByRole('region', { name: /^Node start/ })
  await detail.getByText('"a": 1').waitFor()
  t.equal(await page.getByRole('button', { name: /^start, transform, completed/ }).getAttribute('aria-pressed'), 'true', 'the graph marks it too')
  await page.getByRole('button', { name: /^finish, transform, completed/ }).click()
  await page.getByRole('region', { name: /^Node finish/ }).getByText('"done 1"').waitFor()

  // the level filter: errors only leaves none of this run's lines
  const log = page.getByRole('log', { name: 'Execution log' })
  t.ok((await log.getByRole('listitem').count()) >= 8, 'the run logs each node starting and completing')
  await page.getByLabel('Level').selectOption('error')
  await page.getByText(/^0 of \d+ lines/).waitFor()
  t.equal(await log.getByRole('listitem').count(), 0)
  t.ok(await page.getByLabel('Follow').isChecked(), 'following the log by default')

  await checkRequests(t, c, page, requests, sockets)
  t.same(violations, [], 'no CSP violation')
})

t.test('a waiting execution is cancelled from its page', async (t) => {
  const c = await startConsole(t)
  const flowId = await createFlow(
    c.fr,
    c.fr.admin.token,
    `
metadata: { name: Long wait }
nodes:
  start:
    type: transform
    params: { expression: '"first"' }
    next: { default: wait }
  wait:
    type: delay
    params: { duration: 10m }
    next: { default: after }
  after:
    type: transform
    params: { expression: '"never"' }
`
  )
  const id = await runFlow(c.fr, c.fr.admin.token, flowId)
  const { page, requests, sockets, violations } = await openExecution(c, id)

  await nodeRow(page, 'wait').getByText('waiting', { exact: true }).waitFor()
  await executionStatus(page).getByText('waiting', { exact: true }).waitFor()
  t.equal(await page.getByRole('button', { name: 'Re-run' }).count(), 0, 'no re-run while it goes on')

  await page.getByRole('button', { name: 'Cancel execution' }).click()
  // asked first: declining keeps it going
  await page.getByRole('button', { name: 'Keep it running' }).click()
  await page.getByRole('button', { name: 'Cancel execution' }).click()
  await page.getByRole('button', { name: 'Yes, stop it' }).click()

  await executionStatus(page).getByText('cancelled', { exact: true }).waitFor()
  await nodeRow(page, 'wait').getByText('cancelled', { exact: true }).waitFor()
  t.equal(await nodeRow(page, 'after').getByText('pending', { exact: true }).count(), 1, 'the node after it never ran')
  t.equal(await page.getByRole('button', { name: 'Cancel execution' }).count(), 0, 'nothing left to cancel')
  await page.getByRole('button', { name: 'Re-run' }).waitFor()
  t.equal((await getExecution(c.fr, c.fr.admin.token, id)).status, 'cancelled', 'the API agrees')

  await checkRequests(t, c, page, requests, sockets)
  t.same(violations, [], 'no CSP violation')
})

t.test('a dropped socket is reopened, and the replay brings the page up to date', async (t) => {
  const receiver = await startReceiver(t)
  let open: () => void = () => undefined
  receiver.on('/gate', { until: new Promise((resolve) => (open = () => resolve(undefined))), body: { passed: true } })
  const c = await startConsole(t, { env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` } })
  const flowId = await createFlow(
    c.fr,
    c.fr.admin.token,
    `
metadata: { name: Survives a drop }
nodes:
  gate:
    type: http.request
    params: { url: "${receiver.url}/gate" }
    next: { default: after }
  after:
    type: transform
    params: { expression: '"after"' }
`
  )
  const id = await runFlow(c.fr, c.fr.admin.token, flowId)
  await receiver.arrival('/gate')
  const { page, sockets } = await openExecution(c, id)
  await nodeRow(page, 'gate').getByText('running', { exact: true }).waitFor()
  await page.getByRole('status').getByText('Following live.').waitFor()

  // the server goes away as a restarting replica does (1001); meanwhile the run goes on
  const reopened = page.waitForEvent('websocket')
  for (const client of c.fr.app.websocketServer.clients) client.close(1001, 'going away')
  open()
  await reopened
  for (const node of ['gate', 'after']) await nodeRow(page, node).getByText('completed', { exact: true }).waitFor()
  await executionStatus(page).getByText('completed', { exact: true }).waitFor()
  t.equal(sockets.length, 2, 'one socket, then one more after the drop')
  await page.getByRole('region', { name: /^Node after/ }).waitFor({ state: 'detached' })
  await nodeRow(page, 'after').getByRole('button', { name: 'after' }).click()
  await page.getByRole('region', { name: /^Node after/ }).getByText('"after"').waitFor()
})
