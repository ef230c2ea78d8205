import { SecretVault } from '../../src/secrets/vault.js'
import { parseMasterKey } from '../../src/secrets/master-key.js'
import { buildFlowRunner, eachBackend, SECRETS_KEY } from '../helpers/flowrunner.js'
import { LogCapture } from '../helpers/gateway.js'

const VALUE = 'sk_live_the-secret-value-0123456789'

eachBackend('secrets: create (201), list keys and timestamps only, delete', async (t, backend) => {
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs })
  const user = await fr.createUser()
  const base = `/api/v1/accounts/${user.id}/secrets`

  const created = await fr.request('POST', base, { token: user.token, body: { key: 'NEW_API_KEY', value: VALUE } })
  t.equal(created.statusCode, 201)
  t.same(Object.keys(created.json()).sort(), ['created_at', 'key', 'updated_at'])
  t.equal(created.json().key, 'NEW_API_KEY')
  await fr.request('POST', base, { token: user.token, body: { key: 'DATABASE_URL', value: 'postgres://u:p@h/db' } })

  const list = await fr.request('GET', base, { token: user.token })
  t.equal(list.statusCode, 200)
  t.same(Object.keys(list.json()), ['secrets'])
  t.same(list.json().secrets.map((s: { key: string }) => s.key), ['DATABASE_URL', 'NEW_API_KEY'])
  for (const s of list.json().secrets) t.same(Object.keys(s).sort(), ['created_at', 'key', 'updated_at'])

  const dup = await fr.request('POST', base, { token: user.token, body: { key: 'NEW_API_KEY', value: 'another-value' } })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().error.code, 'conflict')

  const deleted = await fr.request('DELETE', `${base}/NEW_API_KEY`, { token: user.token })
  t.equal(deleted.statusCode, 200)
  t.same(deleted.json(), { message: 'Secret deleted successfully' })
  t.equal((await fr.request('DELETE', `${base}/NEW_API_KEY`, { token: user.token })).statusCode, 404)
  t.same((await fr.request('GET', base, { token: user.token })).json().secrets.map((s: { key: string }) => s.key), ['DATABASE_URL'])

  for (const res of [created, list, dup, deleted]) t.notMatch(res.body, VALUE, 'no reply carries the value')
  t.notMatch(logs.text, VALUE, 'the value never reaches the log')
  t.notMatch(logs.text, 'u:p@h', 'the value never reaches the log')
})

eachBackend('secret keys and values are validated (400)', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const base = `/api/v1/accounts/${fr.admin.id}/secrets`
  for (const body of [
    { key: '1STARTS_WITH_DIGIT', value: 'v' },
    { key: 'has-dash', value: 'v' },
    { key: 'has space', value: 'v' },
    { key: '', value: 'v' },
    { key: 'A'.repeat(129), value: 'v' },
    { key: 'EMPTY', value: '' },
    { key: 'MISSING' },
    { value: 'v' }
  ]) {
    const res = await fr.request('POST', base, { token: fr.admin.token, body })
    t.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 40))
    t.equal(res.json().error.code, 'invalid_request')
  }
  t.equal((await fr.request('POST', base, { token: fr.admin.token, body: { key: '_lower_ok9', value: 'value-of-8+' } })).statusCode, 201)
})

eachBackend("only the owner or an admin touches an account's secrets", async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const alice = await fr.createUser('alice')
  const bob = await fr.createUser('bob')
  const base = `/api/v1/accounts/${alice.id}/secrets`
  await fr.request('POST', base, { token: alice.token, body: { key: 'ALICE_KEY', value: VALUE } })

  for (const [method, url, body] of [
    ['GET', base, undefined],
    ['POST', base, { key: 'BOB_WAS_HERE', value: 'bob-was-here' }],
    ['DELETE', `${base}/ALICE_KEY`, undefined]
  ] as const) {
    const res = await fr.request(method, url, { token: bob.token, body })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.equal(res.json().error.code, 'forbidden')
    t.equal((await fr.request(method, url, { body })).statusCode, 401, `${method} ${url} without a token`)
  }
  t.equal((await fr.request('GET', '/api/v1/accounts/account-nope/secrets', { token: bob.token })).statusCode, 403)

  // admins manage anyone's
  t.same((await fr.request('GET', base, { token: fr.admin.token })).json().secrets.map((s: { key: string }) => s.key), ['ALICE_KEY'])
  t.equal((await fr.request('POST', base, { token: fr.admin.token, body: { key: 'FROM_ADMIN', value: 'from-the-admin' } })).statusCode, 201)
  t.equal((await fr.request('DELETE', `${base}/FROM_ADMIN`, { token: fr.admin.token })).statusCode, 200)
  t.equal((await fr.request('GET', '/api/v1/accounts/account-nope/secrets', { token: fr.admin.token })).statusCode, 404)
  t.equal((await fr.request('POST', '/api/v1/accounts/account-nope/secrets', { token: fr.admin.token, body: { key: 'K', value: 'value-for-nobody' } })).statusCode, 404)

  t.same((await fr.request('GET', `/api/v1/accounts/${bob.id}/secrets`, { token: bob.token })).json(), { secrets: [] }, "bob's own list is separate")
})

eachBackend('stored rows hold AES-256-GCM ciphertext bound to the account and key', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  await fr.request('POST', `/api/v1/accounts/${user.id}/secrets`, { token: user.token, body: { key: 'API_KEY', value: VALUE } })
  await fr.request('POST', `/api/v1/accounts/${user.id}/secrets`, { token: user.token, body: { key: 'SAME_VALUE', value: VALUE } })

  const rows = await fr.sql<{ account_id: string; key: string; key_id: string; nonce: Uint8Array; ciphertext: Uint8Array }>(
    'SELECT * FROM secrets ORDER BY key'
  )
  t.equal(rows.length, 2)
  const plain = Buffer.from(VALUE)
  for (const row of rows) {
    const raw = JSON.stringify(row)
    t.notMatch(raw, VALUE, 'no column holds the plaintext')
    t.equal(Buffer.from(row.ciphertext).indexOf(plain), -1)
    t.notMatch(Buffer.from(row.ciphertext).toString('base64'), plain.toString('base64'))
    t.equal(row.nonce.length, 12)
    t.equal(row.ciphertext.length, plain.length + 16, 'ciphertext plus the GCM tag')
  }
  const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]]
  t.not(Buffer.from(a.nonce).toString('hex'), Buffer.from(b.nonce).toString('hex'), 'a fresh nonce per value')
  t.not(Buffer.from(a.ciphertext).toString('hex'), Buffer.from(b.ciphertext).toString('hex'), 'equal values seal differently')

  // the engine's view: the values open again
  t.same({ ...(await fr.app.secrets.resolve(user.id)) }, { API_KEY: VALUE, SAME_VALUE: VALUE })

  const vault = new SecretVault(parseMasterKey(SECRETS_KEY))
  const sealed = { keyId: a.key_id, nonce: a.nonce, ciphertext: a.ciphertext }
  t.equal(vault.open(user.id, 'API_KEY', sealed), VALUE)
  t.throws(() => vault.open(fr.admin.id, 'API_KEY', sealed), /failed authentication/, 'moved to another account it does not open')
  t.throws(() => vault.open(user.id, 'OTHER_KEY', sealed), /failed authentication/, 'renamed it does not open')
  const other = new SecretVault(Buffer.alloc(32, 7))
  t.throws(() => other.open(user.id, 'API_KEY', sealed), /another master key/)

  // copy a row to another account in the database itself: resolving that account fails instead of leaking
  await fr.sql(`INSERT INTO secrets (account_id, key, key_id, nonce, ciphertext) SELECT $1, key, key_id, nonce, ciphertext FROM secrets WHERE key = 'API_KEY'`, [fr.admin.id])
  await t.rejects(fr.app.secrets.resolve(fr.admin.id), /failed authentication/)
})
