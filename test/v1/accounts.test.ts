import t from 'tap'
import { ADMIN_EMAIL, buildFlowRunner, eachBackend, simpleDefinition, type FlowRunner } from '../helpers/flowrunner.js'
import { LogCapture } from '../helpers/gateway.js'

const ACCOUNT_KEYS = ['created_at', 'email', 'id', 'name', 'role', 'updated_at']

eachBackend('admins create accounts (201) and list them with role filter and pagination', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const created = await fr.request('POST', '/api/v1/accounts', {
    token: fr.admin.token,
    body: { name: 'New Account', email: 'New@Example.com', password: 'your-password', role: 'user' }
  })
  t.equal(created.statusCode, 201)
  const account = created.json()
  t.same(Object.keys(account).sort(), ACCOUNT_KEYS, 'exactly the documented fields: no password hash')
  t.match(account, { name: 'New Account', email: 'New@Example.com', role: 'user' })
  t.match(account.id, /^account-/)
  t.ok(Date.parse(account.created_at) > 0 && account.created_at === account.updated_at)

  const defaulted = await fr.request('POST', '/api/v1/accounts', {
    token: fr.admin.token,
    body: { name: 'Second', email: 'second@example.com', password: 'another-password' }
  })
  t.equal(defaulted.json().role, 'user', 'role defaults to user')
  await fr.request('POST', '/api/v1/accounts', {
    token: fr.admin.token,
    body: { name: 'Admin 2', email: 'admin2@example.com', password: 'admin2-password', role: 'admin' }
  })

  const all = await fr.request('GET', '/api/v1/accounts', { token: fr.admin.token })
  t.equal(all.statusCode, 200)
  t.same(Object.keys(all.json()).sort(), ['accounts', 'limit', 'offset', 'total'])
  t.match(all.json(), { total: 4, limit: 10, offset: 0 })
  t.same(all.json().accounts.map((a: { email: string }) => a.email), [ADMIN_EMAIL, 'New@Example.com', 'second@example.com', 'admin2@example.com'])

  const admins = await fr.request('GET', '/api/v1/accounts?role=admin', { token: fr.admin.token })
  t.same(admins.json().accounts.map((a: { email: string }) => a.email), [ADMIN_EMAIL, 'admin2@example.com'])
  t.equal(admins.json().total, 2)

  const paged = await fr.request('GET', '/api/v1/accounts?limit=2&offset=1', { token: fr.admin.token })
  t.match(paged.json(), { total: 4, limit: 2, offset: 1 })
  t.same(paged.json().accounts.map((a: { email: string }) => a.email), ['New@Example.com', 'second@example.com'])

  t.equal((await fr.request('GET', '/api/v1/accounts?limit=1000', { token: fr.admin.token })).json().limit, 100, 'limit is capped at 100')
  for (const query of ['limit=0', 'offset=-1', 'role=owner', 'limit=abc']) {
    const bad = await fr.request('GET', `/api/v1/accounts?${query}`, { token: fr.admin.token })
    t.equal(bad.statusCode, 400, query)
    t.equal(bad.json().error.code, 'invalid_request', query)
  }
})

eachBackend('account creation: 409 on a duplicate email, 400 on a bad body, 403 for users', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const dup = await fr.request('POST', '/api/v1/accounts', {
    token: fr.admin.token,
    body: { name: 'Dup', email: ADMIN_EMAIL.toUpperCase(), password: 'some-password' }
  })
  t.equal(dup.statusCode, 409, 'emails are compared case-insensitively')
  t.equal(dup.json().error.code, 'conflict')

  const cases: [Record<string, unknown>, string][] = [
    [{ email: 'a@example.com', password: 'long-enough' }, 'name'],
    [{ name: 'A', password: 'long-enough' }, 'email'],
    [{ name: 'A', email: 'not-an-email', password: 'long-enough' }, 'email'],
    [{ name: 'A', email: 'a@example.com', password: 'short' }, 'password'],
    [{ name: 'A', email: 'a@example.com', password: 'long-enough', role: 'root' }, 'role']
  ]
  for (const [body, field] of cases) {
    const res = await fr.request('POST', '/api/v1/accounts', { token: fr.admin.token, body })
    t.equal(res.statusCode, 400, field)
    t.equal(res.json().error.code, 'invalid_request')
    t.equal(res.json().error.details.field, field)
    t.equal(typeof res.json().error.details.reason, 'string')
  }

  const user = await fr.createUser()
  const forbidden = await fr.request('POST', '/api/v1/accounts', {
    token: user.token,
    body: { name: 'Sneaky', email: 'sneaky@example.com', password: 'sneaky-password', role: 'admin' }
  })
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().error.code, 'forbidden')
  t.equal((await fr.request('GET', '/api/v1/accounts', { token: user.token })).statusCode, 403, 'users cannot list accounts')
  t.equal((await fr.request('GET', '/api/v1/accounts')).statusCode, 401)
  t.equal((await fr.request('POST', '/api/v1/accounts', { body: {} })).statusCode, 401, 'authentication comes before validation')
})

eachBackend('a user reads and updates its own account, never its role, and gets 403 on others', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const alice = await fr.createUser('alice')
  const bob = await fr.createUser('bob')

  const own = await fr.request('GET', `/api/v1/accounts/${alice.id}`, { token: alice.token })
  t.equal(own.statusCode, 200)
  t.same(Object.keys(own.json()).sort(), ACCOUNT_KEYS)
  t.equal(own.json().email, alice.email)

  for (const id of [bob.id, fr.admin.id, 'account-does-not-exist']) {
    const res = await fr.request('GET', `/api/v1/accounts/${id}`, { token: alice.token })
    t.equal(res.statusCode, 403, 'other and unknown ids alike, so ids cannot be probed')
    t.equal(res.json().error.code, 'forbidden')
    t.equal((await fr.request('PUT', `/api/v1/accounts/${id}`, { token: alice.token, body: { name: 'x' } })).statusCode, 403)
  }

  const updated = await fr.request('PUT', `/api/v1/accounts/${alice.id}`, {
    token: alice.token,
    body: { name: 'Alice Updated', email: 'alice.new@example.com', password: 'alice-new-password', current_password: alice.password }
  })
  t.equal(updated.statusCode, 200)
  t.match(updated.json(), { id: alice.id, name: 'Alice Updated', email: 'alice.new@example.com', role: 'user' })
  t.ok(Date.parse(updated.json().updated_at) >= Date.parse(updated.json().created_at))
  const aliceToken = await fr.login('alice.new@example.com', 'alice-new-password')
  t.equal((await fr.request('POST', '/api/v1/auth/login', { body: { username: 'alice.new@example.com', password: alice.password } })).statusCode, 401, 'the old password is gone')
  t.equal((await fr.request('GET', `/api/v1/accounts/${alice.id}`, { token: alice.token })).statusCode, 401, 'so is the token it opened')
  alice.token = aliceToken

  const promote = await fr.request('PUT', `/api/v1/accounts/${alice.id}`, { token: alice.token, body: { role: 'admin' } })
  t.equal(promote.statusCode, 403)
  t.match(promote.json().error.message, /own role/)
  t.equal((await fr.request('PUT', `/api/v1/accounts/${alice.id}`, { token: alice.token, body: { role: 'user' } })).statusCode, 200, 'restating the same role is fine')

  const taken = await fr.request('PUT', `/api/v1/accounts/${alice.id}`, {
    token: alice.token,
    body: { email: bob.email.toUpperCase(), current_password: 'alice-new-password' }
  })
  t.equal(taken.statusCode, 409)
  t.equal((await fr.request('PUT', `/api/v1/accounts/${alice.id}`, { token: alice.token, body: {} })).statusCode, 400, 'an empty update is invalid')
  t.equal((await fr.request('DELETE', `/api/v1/accounts/${alice.id}`, { token: alice.token })).statusCode, 403, 'only admins delete accounts')
})

eachBackend('admins update any account; the last admin can be neither demoted nor deleted', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  const promoted = await fr.request('PUT', `/api/v1/accounts/${user.id}`, { token: fr.admin.token, body: { role: 'admin', name: 'Promoted' } })
  t.equal(promoted.statusCode, 200)
  t.match(promoted.json(), { role: 'admin', name: 'Promoted' })
  t.equal((await fr.request('GET', '/api/v1/accounts', { token: user.token })).statusCode, 200, 'the new role applies to the next request')

  t.equal((await fr.request('GET', '/api/v1/accounts/account-nope', { token: fr.admin.token })).statusCode, 404)
  t.equal((await fr.request('PUT', '/api/v1/accounts/account-nope', { token: fr.admin.token, body: { name: 'x' } })).statusCode, 404)
  t.equal((await fr.request('DELETE', '/api/v1/accounts/account-nope', { token: fr.admin.token })).statusCode, 404)

  // two admins: demote the first; the second is now the last
  t.equal((await fr.request('PUT', `/api/v1/accounts/${fr.admin.id}`, { token: user.token, body: { role: 'user' } })).statusCode, 200)
  const demoteLast = await fr.request('PUT', `/api/v1/accounts/${user.id}`, { token: user.token, body: { role: 'user' } })
  t.equal(demoteLast.statusCode, 409)
  t.equal(demoteLast.json().error.code, 'conflict')
  const deleteLast = await fr.request('DELETE', `/api/v1/accounts/${user.id}`, { token: user.token })
  t.equal(deleteLast.statusCode, 409)
  t.match(deleteLast.json().error.message, /last admin/)

  const removed = await fr.request('DELETE', `/api/v1/accounts/${fr.admin.id}`, { token: user.token })
  t.equal(removed.statusCode, 200)
  t.same(removed.json(), { message: 'Account deleted successfully' })
  t.equal((await fr.request('DELETE', `/api/v1/accounts/${fr.admin.id}`, { token: user.token })).statusCode, 404)
})

eachBackend('two admins demoting each other at once leave one admin', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const second = await fr.createUser()
  await fr.request('PUT', `/api/v1/accounts/${second.id}`, { token: fr.admin.token, body: { role: 'admin' } })
  const results = await Promise.all([
    fr.request('PUT', `/api/v1/accounts/${fr.admin.id}`, { token: second.token, body: { role: 'user' } }),
    fr.request('PUT', `/api/v1/accounts/${second.id}`, { token: fr.admin.token, body: { role: 'user' } })
  ])
  const statuses = results.map((r) => r.statusCode).sort()
  // whichever runs second either finds itself the last admin (409) or, demoted first, lacks the right (403)
  t.equal(statuses[0], 200)
  t.ok(statuses[1] === 403 || statuses[1] === 409)
  const admins = await fr.sql<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE role = 'admin'")
  t.equal(admins[0]?.n, 1)
})

eachBackend("deleting an account deletes its flows, their versions and its secrets", async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  const flow = await fr.request('POST', '/api/v1/flows', { token: user.token, body: { definition: simpleDefinition() } })
  t.equal(flow.statusCode, 201)
  await fr.request('PUT', `/api/v1/flows/${flow.json().id}`, { token: user.token, body: { tags: ['x'] } })
  t.equal((await fr.request('POST', `/api/v1/accounts/${user.id}/secrets`, { token: user.token, body: { key: 'API_KEY', value: 'api-key-value' } })).statusCode, 201)
  // the admin also edits the user's flow: its revision names the admin, who must survive the delete
  await fr.request('PUT', `/api/v1/flows/${flow.json().id}`, { token: fr.admin.token, body: { tags: ['y'] } })

  t.equal((await fr.request('DELETE', `/api/v1/accounts/${user.id}`, { token: fr.admin.token })).statusCode, 200)
  const counts = await fr.sql<{ flows: number; revisions: number; secrets: number }>(
    `SELECT (SELECT count(*)::int FROM flows) AS flows, (SELECT count(*)::int FROM flow_revisions) AS revisions,
            (SELECT count(*)::int FROM secrets) AS secrets`
  )
  t.same(counts[0], { flows: 0, revisions: 0, secrets: 0 })
})

eachBackend('an admin deleted after editing a flow leaves its revisions intact, author cleared', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  const second = await fr.createUser('boss')
  await fr.request('PUT', `/api/v1/accounts/${second.id}`, { token: fr.admin.token, body: { role: 'admin' } })
  const flow = (await fr.request('POST', '/api/v1/flows', { token: user.token, body: { definition: simpleDefinition() } })).json()
  await fr.request('PUT', `/api/v1/flows/${flow.id}`, { token: second.token, body: { tags: ['by-admin'] } })
  t.equal((await fr.request('DELETE', `/api/v1/accounts/${second.id}`, { token: fr.admin.token })).statusCode, 200)
  const versions = (await fr.request('GET', `/api/v1/flows/${flow.id}/versions`, { token: user.token })).json()
  t.same(versions.versions.map((v: { revision: number; author_id: string | null }) => [v.revision, v.author_id]), [
    [2, null],
    [1, user.id]
  ])
})

t.test('accounts routes are in the OpenAPI document', async (t) => {
  const fr = await buildFlowRunner(t, { backend: 'pglite' })
  const doc = (await fr.request('GET', '/docs/json')).json()
  for (const p of ['/api/v1/accounts', '/api/v1/accounts/{id}', '/api/v1/auth/login', '/api/v1/flows', '/api/v1/flows/{id}', '/api/v1/flows/{id}/versions/{version}', '/api/v1/accounts/{account_id}/secrets/{key}']) {
    t.ok(doc.paths[p], p)
  }
  t.ok(doc.paths['/api/v1/accounts'].post.responses['201'])
  t.ok(doc.paths['/api/v1/flows'].post.responses['422'])
})

eachBackend('a password change ends every token issued before it, on every route, refresh included', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const alice = await fr.createUser('alice')
  const laptop = await fr.login(alice.email, alice.password)
  const phone = await fr.login(alice.email, alice.password)
  const bob = await fr.createUser('bob')
  t.equal((await fr.request('GET', '/api/v1/flows', { token: phone })).statusCode, 200, 'tokens work before the change')

  // an admin resets alice's password: all of alice's sessions end, nobody else's
  const reset = await fr.request('PUT', `/api/v1/accounts/${alice.id}`, { token: fr.admin.token, body: { password: 'alice-reset-password' } })
  t.equal(reset.statusCode, 200)
  for (const token of [alice.token, laptop, phone]) {
    const res = await fr.request('GET', '/api/v1/flows', { token })
    t.equal(res.statusCode, 401, 'an old token is refused')
    t.equal(res.json().error.code, 'unauthorized')
    t.equal((await fr.request('POST', '/api/v1/auth/refresh', { token })).statusCode, 401, 'and cannot be refreshed into a new one')
  }
  t.equal((await fr.request('GET', '/api/v1/flows', { token: bob.token })).statusCode, 200, "another account's token is untouched")
  t.equal((await fr.request('GET', '/api/v1/flows', { token: fr.admin.token })).statusCode, 200, "the admin's own token too")

  // a name change is not a password change: tokens issued after the reset live on through it
  const fresh = await fr.login(alice.email, 'alice-reset-password')
  t.equal((await fr.request('PUT', `/api/v1/accounts/${alice.id}`, { token: fresh, body: { name: 'Alice R.' } })).statusCode, 200)
  t.equal((await fr.request('GET', '/api/v1/flows', { token: fresh })).statusCode, 200, 'a token from the new password works')
  const refreshed = await fr.request('POST', '/api/v1/auth/refresh', { token: fresh })
  t.equal(refreshed.statusCode, 200)
  const next = (refreshed.json() as { token: string }).token
  t.equal((await fr.request('GET', '/api/v1/flows', { token: next })).statusCode, 200, 'and so does its refresh')

  // the account changing its own password ends the token it used as well
  const third = { password: 'alice-third-password', current_password: 'alice-reset-password' }
  t.equal((await fr.request('PUT', `/api/v1/accounts/${alice.id}`, { token: next, body: third })).statusCode, 200)
  t.equal((await fr.request('GET', '/api/v1/flows', { token: next })).statusCode, 401)
})

eachBackend('changing your own password or email takes current_password; a wrong one counts as a failed login', async (t, backend) => {
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs, env: { FLOWRUNNER_LOGIN_RATE_LIMIT: '3' } })
  const alice = await fr.createUser('alice')
  const put = (body: Record<string, unknown>, token = alice.token, id = alice.id): ReturnType<FlowRunner['request']> =>
    fr.request('PUT', `/api/v1/accounts/${id}`, { token, body })

  for (const body of [{ password: 'stolen-token-password' }, { email: 'thief@example.com' }, { name: 'x', email: 'thief@example.com' }]) {
    const missing = await put(body)
    t.equal(missing.statusCode, 400, `${Object.keys(body).join('+')} without current_password`)
    t.equal(missing.json().error.code, 'invalid_request')
    t.equal(missing.json().error.details.field, 'current_password')
  }
  t.equal((await put({ name: 'Alice N.' })).statusCode, 200, 'a name change needs no password')
  t.equal((await fr.request('GET', `/api/v1/accounts/${alice.id}`, { token: alice.token })).json().email, alice.email, 'nothing else changed')

  const WRONG = 'wrong-guess-password-1'
  const wrong = await put({ password: 'stolen-token-password', current_password: WRONG })
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json().error.code, 'forbidden')
  t.notOk(wrong.body.includes(WRONG) || wrong.body.includes('stolen-token-password'), 'no password in the error body')
  t.equal((await put({ email: 'thief@example.com', current_password: WRONG })).statusCode, 403)
  t.equal(await fr.login(alice.email, alice.password).then(() => 'ok'), 'ok', 'the password is unchanged')

  const right = await put({ password: 'alice-changed-password', current_password: alice.password })
  t.equal(right.statusCode, 200, 'with the right current password')
  const token = await fr.login(alice.email, 'alice-changed-password')
  const moved = await put({ email: 'alice.moved@example.com', current_password: 'alice-changed-password' }, token)
  t.equal(moved.statusCode, 200)
  t.equal(moved.json().email, 'alice.moved@example.com')

  // admins change other accounts without it, but their own with it, like anyone
  t.equal((await put({ password: 'admin-set-password', email: 'alice.admin@example.com' }, fr.admin.token)).statusCode, 200)
  t.equal((await put({ password: 'admin-new-password-1' }, fr.admin.token, fr.admin.id)).statusCode, 400)
  t.equal((await put({ password: 'admin-new-password-1', current_password: 'nope-nope' }, fr.admin.token, fr.admin.id)).statusCode, 403)

  // wrong current passwords and failed logins share the limit (3 a minute per client and account)
  const bob = await fr.createUser('bob')
  t.equal((await put({ password: 'bob-other-password', current_password: WRONG }, bob.token, bob.id)).statusCode, 403)
  t.equal((await fr.request('POST', '/api/v1/auth/login', { body: { username: bob.email, password: WRONG } })).statusCode, 401)
  t.equal((await put({ email: 'bob.x@example.com', current_password: WRONG }, bob.token, bob.id)).statusCode, 403)
  const limited = await put({ password: 'bob-other-password', current_password: bob.password }, bob.token, bob.id)
  t.equal(limited.statusCode, 429, 'past the limit even the right password waits')
  t.equal(limited.json().error.code, 'rate_limited')
  t.equal((await fr.request('POST', '/api/v1/auth/login', { body: { username: bob.email, password: bob.password } })).statusCode, 429, 'and so does a login')

  await fr.app.close()
  for (const secret of [WRONG, 'stolen-token-password', 'alice-changed-password', alice.password, bob.password]) {
    t.notOk(logs.text.includes(secret), `not in the logs: ${secret.slice(0, 6)}…`)
  }
})
