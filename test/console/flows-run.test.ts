import t from 'tap'
import { startConsole } from '../helpers/console.js'
import { createFlow, getExecution } from '../helpers/executions.js'
import { GOOD_FLOW, pasteInto } from './flows-fixtures.js'

const WITH_TRIGGERS = `metadata:
  name: Triggered flow
triggers:
  - id: yearly
    type: schedule
    cron: "0 3 1 1 *"
    timezone: Europe/Paris
  - id: intake
    type: webhook
nodes:
  start:
    type: transform
    params:
      expression: '"ok"'
`

t.test('run panel: the Input is checked as JSON, a run lands on its execution, a waited run shows its result', async (t) => {
  const c = await startConsole(t)
  const id = await createFlow(c.fr, c.fr.admin.token, GOOD_FLOW)
  const { page } = await c.open()
  await c.login(page, c.fr.admin.email, c.fr.admin.password)
  await page.goto(`${c.origin}/console/#/flows/${id}`)

  await page.getByRole('button', { name: 'Run', exact: true }).click()
  const start = page.getByRole('button', { name: 'Start the run' })
  await pasteInto(page, 'Input', '{"n": 7,}')
  await page.getByText(/^Input is not valid JSON/).waitFor()
  t.ok(await start.isDisabled(), 'no run with input that is not JSON')
  t.equal(await page.locator('.run-input .cm-line.cm-problem-line').count(), 1, 'the bad line is marked')

  await pasteInto(page, 'Input', '{"n": 7}')
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('#run-input-problem')?.textContent === '')
  await page.getByLabel('Wait for the result').check()
  await start.click()
  const result = page.getByRole('status').filter({ hasText: 'The run ended' })
  await result.waitFor()
  t.match(await result.textContent(), /completed/, 'the status as a word')
  t.match(await result.locator('pre').textContent(), /"big"/, 'the result: 7 doubled is more than 10')
  const link = result.getByRole('link', { name: 'Open the execution' })
  const waited = /#\/executions\/([^/?]+)$/.exec((await link.getAttribute('href')) ?? '')?.[1] ?? ''
  t.equal((await getExecution(c.fr, c.fr.admin.token, waited)).status, 'completed', 'the link names the execution that ran')

  await page.getByLabel('Wait for the result').uncheck()
  await start.click()
  await page.waitForURL(/#\/executions\/[^/?]+$/)
  const executionId = /#\/executions\/([^/?]+)$/.exec(page.url())?.[1] ?? ''
  t.not(executionId, waited, 'a second execution')
  const execution = await getExecution(c.fr, c.fr.admin.token, executionId)
  t.equal(execution.flow_id, id, 'the execution exists, of this flow')
  t.same(execution.input, { n: 7 }, 'with the input typed')
})

t.test('triggers: schedule and webhook listed, paused and resumed, the webhook URL copied; delete asks first', async (t) => {
  const c = await startConsole(t)
  const id = await createFlow(c.fr, c.fr.admin.token, WITH_TRIGGERS)
  const { page, context } = await c.open()
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: c.origin })
  await c.login(page, c.fr.admin.email, c.fr.admin.password)
  await page.goto(`${c.origin}/console/#/flows/${id}`)

  const triggers = page.getByRole('region', { name: 'Triggers' })
  const yearly = triggers.getByRole('row').filter({ hasText: 'yearly' })
  await yearly.waitFor()
  t.match(await yearly.textContent(), /0 3 1 1 \*.*Europe\/Paris/, 'cron and time zone')
  t.match(await yearly.textContent(), /in \d/, 'the next fire time, relative')
  t.match(await yearly.textContent(), /Active/)

  await yearly.getByRole('button', { name: 'Pause trigger yearly' }).click()
  await yearly.getByRole('button', { name: 'Resume trigger yearly' }).waitFor()
  t.match(await yearly.textContent(), /Paused/, 'the state as a word')
  const listed = (await c.fr.request('GET', `/api/v1/flows/${id}/triggers`, { token: c.fr.admin.token })).json() as { triggers: Array<{ id: string; enabled: boolean; url: string | null }> }
  t.equal(listed.triggers.find((x) => x.id === 'yearly')?.enabled, false, 'paused on the server')
  await yearly.getByRole('button', { name: 'Resume trigger yearly' }).click()
  await yearly.getByRole('button', { name: 'Pause trigger yearly' }).waitFor()

  const intake = triggers.getByRole('row').filter({ hasText: 'intake' })
  await intake.getByRole('button', { name: 'Copy webhook URL' }).click()
  await page.getByRole('status').filter({ hasText: 'Copied the webhook URL of intake.' }).waitFor()
  const copied = await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())
  const path = listed.triggers.find((x) => x.id === 'intake')?.url ?? 'none'
  t.equal(copied, `${c.origin}${path}`, 'the whole URL')
  t.match(await intake.textContent(), path, 'and shown')

  await page.getByRole('button', { name: 'Delete flow…' }).click()
  await page.getByText(/Delete Triggered flow with all its revisions/).waitFor()
  t.equal((await c.fr.request('GET', `/api/v1/flows/${id}`, { token: c.fr.admin.token })).statusCode, 200, 'nothing deleted before the confirm')
  await page.getByRole('button', { name: 'Yes, delete this flow' }).click()
  await page.waitForURL(/#\/flows$/)
  t.equal((await c.fr.request('GET', `/api/v1/flows/${id}`, { token: c.fr.admin.token })).statusCode, 404, 'deleted')
})
