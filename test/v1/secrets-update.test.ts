import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { LogCapture } from '../helpers/gateway.js'

const OLD = 'sk_live_the-old-value-0123456789'
const NEW = 'sk_live_the-new-value-9876543210'

interface SealedRow {
  key_id: string
  nonce: Uint8Array
  ciphertext: Uint8Array
  moved: boolean
}

eachBackend('secrets: PUT replaces the value (200), sealed anew; 404 for a missing key', async (t, backend) => {
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs })
  const user = await fr.createUser()
  const base = `/api/v1/accounts/${user.id}/secrets`
  const created = await fr.request('POST', base, { token: user.token, body: { key: 'API_KEY', value: OLD } })
  t.equal(created.statusCode, 201)
  const sealedBefore = await fr.sql<SealedRow>('SELECT key_id, nonce, ciphertext, false AS moved FROM secrets WHERE key = $1', ['API_KEY'])

  const updated = await fr.request('PUT', `${base}/API_KEY`, { token: user.token, body: { value: NEW } })
  t.equal(updated.statusCode, 200)
  t.same(Object.keys(updated.json()).sort(), ['created_at', 'key', 'updated_at'])
  t.equal(updated.json().key, 'API_KEY')
  t.equal(updated.json().created_at, created.json().created_at, 'created_at stays')

  const [row] = await fr.sql<SealedRow>('SELECT key_id, nonce, ciphertext, updated_at > created_at AS moved FROM secrets WHERE key = $1', ['API_KEY'])
  t.ok(row?.moved, 'updated_at moved past created_at')
  t.not(Buffer.from(row?.nonce ?? []).toString('hex'), Buffer.from(sealedBefore[0]?.nonce ?? []).toString('hex'), 'a fresh nonce')
  t.equal(Buffer.from(row?.ciphertext ?? []).indexOf(Buffer.from(NEW)), -1, 'stored sealed, not in plain text')
  t.same({ ...(await fr.app.secrets.resolve(user.id)) }, { API_KEY: NEW }, 'the engine opens the new value')

  const listed = (await fr.request('GET', base, { token: user.token })).json().secrets
  t.same(listed.map((s: { key: string }) => s.key), ['API_KEY'], 'no second row')
  t.equal(listed[0].updated_at, updated.json().updated_at)

  const missing = await fr.request('PUT', `${base}/NOPE`, { token: user.token, body: { value: NEW } })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: { code: 'not_found', message: 'Secret not found', details: null } })
  t.same((await fr.request('GET', base, { token: user.token })).json().secrets.length, 1, 'PUT never creates')

  for (const res of [created, updated, missing]) t.notMatch(res.body, NEW, 'no reply carries the value')
  t.notMatch(logs.text, NEW, 'the value never reaches the log')
  t.notMatch(logs.text, OLD, 'the value never reaches the log')
})

eachBackend('secrets: PUT validates the body and follows the same auth rules', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const alice = await fr.createUser('alice')
  const bob = await fr.createUser('bob')
  const url = `/api/v1/accounts/${alice.id}/secrets/ALICE_KEY`
  await fr.request('POST', `/api/v1/accounts/${alice.id}/secrets`, { token: alice.token, body: { key: 'ALICE_KEY', value: OLD } })

  for (const body of [{}, { value: '' }, { value: null }]) {
    const res = await fr.request('PUT', url, { token: alice.token, body })
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().error.code, 'invalid_request')
  }
  const short = await fr.request('PUT', url, { token: alice.token, body: { value: 'short' } })
  t.equal(short.statusCode, 422)
  t.equal(short.json().error.code, 'validation_error')

  t.equal((await fr.request('PUT', url, { body: { value: NEW } })).statusCode, 401, 'no token')
  const forbidden = await fr.request('PUT', url, { token: bob.token, body: { value: 'bob-was-here' } })
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().error.code, 'forbidden')
  t.same({ ...(await fr.app.secrets.resolve(alice.id)) }, { ALICE_KEY: OLD }, "bob's attempt changed nothing")

  t.equal((await fr.request('PUT', url, { token: fr.admin.token, body: { value: NEW } })).statusCode, 200, "an admin replaces anyone's")
  t.same({ ...(await fr.app.secrets.resolve(alice.id)) }, { ALICE_KEY: NEW })
  t.equal((await fr.request('PUT', '/api/v1/accounts/account-nope/secrets/K', { token: fr.admin.token, body: { value: NEW } })).statusCode, 404)
})
