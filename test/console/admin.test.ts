import t from 'tap'
import type { Page } from 'playwright-core'
import { startConsole } from '../helpers/console.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/flowrunner.js'

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

function nav(page: Page) {
  return page.getByRole('navigation', { name: 'Main' })
}

t.test('secrets: an admin stores, replaces and deletes one; its value never reaches the page', async (t) => {
  const c = await startConsole(t)
  const { page, requests } = await c.open()
  const seen = recordBodies(page)
  await c.login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
  await nav(page).getByRole('link', { name: 'Secrets' }).click()
  await page.getByRole('heading', { level: 1, name: 'Secrets' }).waitFor()

  const VALUE = 'first-secret-value-9f3a'
  await page.getByLabel('Key', { exact: true }).fill('API_TOKEN')
  const valueField = page.getByLabel('Value', { exact: true })
  t.equal(await valueField.getAttribute('type'), 'password')
  // no saved login offered for it: Chrome ignores "off" on a password field
  t.equal(await valueField.getAttribute('autocomplete'), 'new-password')
  await valueField.fill(VALUE)
  await page.getByRole('button', { name: 'Store secret' }).click()
  await page.getByRole('status').filter({ hasText: 'Stored the secret API_TOKEN.' }).waitFor()
  await page.getByRole('rowheader', { name: 'API_TOKEN' }).waitFor()
  t.equal(await valueField.inputValue(), '', 'the value field is emptied once stored')
  t.equal(await page.getByLabel('Key', { exact: true }).inputValue(), '')

  const stored = await c.fr.request('GET', `/api/v1/accounts/${c.fr.admin.id}/secrets`, { token: c.fr.admin.token })
  t.same(
    (stored.json() as { secrets: Array<{ key: string }> }).secrets.map((s) => s.key),
    ['API_TOKEN']
  )

  // replacing: a per-row control names its key
  const NEXT = 'second-secret-value-77c1'
  await page.getByRole('button', { name: 'Replace value of API_TOKEN' }).click()
  const nextField = page.getByLabel('New value of API_TOKEN')
  t.equal(await nextField.getAttribute('type'), 'password')
  await nextField.fill(NEXT)
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Replaced the value of API_TOKEN.' }).waitFor()

  // a value under 8 characters: the browser says so before any request
  await page.getByLabel('Key', { exact: true }).fill('SHORT')
  await valueField.fill('short')
  await page.getByRole('button', { name: 'Store secret' }).click()
  t.equal(await page.locator('input[name="value"]:invalid').count(), 1, 'the field is invalid')
  t.equal(await page.getByRole('rowheader', { name: 'SHORT' }).count(), 0)
  await valueField.fill('')
  await page.getByLabel('Key', { exact: true }).fill('')

  // deleting asks once more, in the row
  await page.getByRole('button', { name: 'Delete API_TOKEN' }).click()
  await page.getByRole('group', { name: /Delete API_TOKEN\?/ }).waitFor()
  await page.getByRole('button', { name: 'Delete API_TOKEN permanently' }).click()
  await page.getByRole('status').filter({ hasText: 'Deleted the secret API_TOKEN.' }).waitFor()
  await page.getByText('No secrets yet.').waitFor()
  const after = await c.fr.request('GET', `/api/v1/accounts/${c.fr.admin.id}/secrets`, { token: c.fr.admin.token })
  t.same((after.json() as { secrets: unknown[] }).secrets, [])

  await seen.settled()
  const html = await page.content()
  for (const v of [VALUE, NEXT]) {
    t.notOk(html.includes(v), 'no value in the page')
    t.notOk(
      seen.bodies.some((b) => b.includes(v)),
      'no value in any response the page received'
    )
    t.notOk(
      requests.some((r) => r.url.includes(v)),
      'no value in any URL'
    )
  }
  t.ok(seen.bodies.length > 3, `response bodies were read (${seen.bodies.length})`)

  // an admin may pick another account and manage its secrets
  const bob = await c.fr.createUser('bob')
  const put = await c.fr.request('POST', `/api/v1/accounts/${bob.id}/secrets`, { token: bob.token, body: { key: 'BOB_KEY', value: 'bob-secret-value-1' } })
  t.equal(put.statusCode, 201)
  await page.getByRole('button', { name: 'Refresh' }).click()
  await page.getByRole('option', { name: /bob1@example\.com/ }).waitFor({ state: 'attached' })
  await page.getByLabel('Account', { exact: true }).selectOption(bob.id)
  await page.getByRole('rowheader', { name: 'BOB_KEY' }).waitFor()
  t.match(page.url(), /#\/secrets\?account=/, 'the choice is in the URL')
})

t.test('accounts: an admin creates a user; the user has no Accounts page, and changes their password', async (t) => {
  const c = await startConsole(t)
  const admin = await c.open()
  await c.login(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD)
  await nav(admin.page).getByRole('link', { name: 'Accounts' }).click()
  await admin.page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor()
  t.equal(await admin.page.getByRole('button', { name: `Delete ${ADMIN_EMAIL}` }).count(), 0, 'no deleting yourself')

  const EMAIL = 'carol@example.com'
  const OLD = 'carol-first-password'
  const NEW = 'carol-second-password'
  await admin.page.getByLabel('Name', { exact: true }).fill('Carol')
  await admin.page.getByLabel('Email', { exact: true }).fill(EMAIL)
  await admin.page.getByLabel('Password', { exact: true }).fill(OLD)
  await admin.page.getByLabel('Role', { exact: true }).selectOption('user')
  await admin.page.getByRole('button', { name: 'Create account' }).click()
  await admin.page.getByRole('status').filter({ hasText: `Created the account ${EMAIL} (user).` }).waitFor()
  await admin.page.getByRole('cell', { name: EMAIL, exact: true }).waitFor()
  t.equal(await admin.page.getByLabel(`Role of ${EMAIL}`).inputValue(), 'user')

  // the user, in a browser of their own
  const user = await c.open()
  await c.login(user.page, EMAIL, OLD)
  t.equal(await nav(user.page).getByRole('link', { name: 'Accounts' }).count(), 0, 'no Accounts link for a user')
  await user.page.goto(`${c.origin}/console/#/accounts`)
  await user.page.getByRole('heading', { level: 1, name: 'Not found' }).waitFor()

  await user.page.getByRole('link', { name: 'Carol' }).click()
  await user.page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor()
  t.ok(await user.page.getByText(EMAIL).isVisible(), 'the email is shown')
  const current = user.page.getByLabel('Current password', { exact: true })
  const next = user.page.getByLabel('New password', { exact: true })
  const again = user.page.getByLabel('Confirm new password', { exact: true })

  // a mismatched confirmation never leaves the page
  await current.fill(OLD)
  await next.fill(NEW)
  await again.fill(`${NEW}-typo`)
  await user.page.getByRole('button', { name: 'Change password' }).click()
  await user.page.getByRole('alert').filter({ hasText: 'confirmation differ' }).waitFor()

  // a wrong current password: the API's message
  await current.fill('not-the-password')
  await again.fill(NEW)
  await user.page.getByRole('button', { name: 'Change password' }).click()
  await user.page.getByRole('alert').filter({ hasText: 'The current password is incorrect' }).waitFor()

  await current.fill(OLD)
  await user.page.getByRole('button', { name: 'Change password' }).click()
  await user.page.getByRole('status').filter({ hasText: 'Your password is changed.' }).waitFor()
  t.equal(await nav(user.page).count(), 1, 'still signed in (logged in again with the new password)')
  await nav(user.page).getByRole('link', { name: 'Secrets' }).click()
  await user.page.getByText('No secrets yet.').waitFor()
  t.pass("the session's new token works")

  const fresh = await c.open()
  await c.login(fresh.page, EMAIL, NEW)
  t.ok(await nav(fresh.page).isVisible(), 'the new password logs in')
  const old = await c.fr.request('POST', '/api/v1/auth/login', { body: { username: EMAIL, password: OLD } })
  t.equal(old.statusCode, 401, 'the old one does not')

  // the admin changes the role, then deletes the account
  await admin.page.getByLabel(`Role of ${EMAIL}`).selectOption('admin')
  await admin.page.getByRole('button', { name: `Save the role of ${EMAIL}` }).click()
  await admin.page.getByRole('status').filter({ hasText: `${EMAIL} is now an admin.` }).waitFor()
  await admin.page.getByRole('button', { name: `Delete ${EMAIL}` }).click()
  await admin.page.getByRole('button', { name: `Delete ${EMAIL} permanently` }).click()
  await admin.page.getByRole('status').filter({ hasText: `Deleted the account ${EMAIL}.` }).waitFor()
  await admin.page.getByRole('cell', { name: EMAIL, exact: true }).waitFor({ state: 'detached' })
})
