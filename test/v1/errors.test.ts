import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { LogCapture } from '../helpers/gateway.js'

eachBackend('errors use the documented {error: {code, message, details}} shape', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const unknown = await fr.request('GET', '/api/v1/nothing-here', { token: fr.admin.token })
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), { error: { code: 'not_found', message: 'No route GET /api/v1/nothing-here', details: null } })

  const invalid = await fr.request('POST', '/api/v1/accounts', { token: fr.admin.token, body: { email: 'a@example.com', password: 'long-enough' } })
  t.equal(invalid.statusCode, 400)
  t.same(Object.keys(invalid.json()), ['error'])
  t.match(invalid.json().error, { code: 'invalid_request', message: /The request was invalid/, details: { field: 'name', reason: 'is required' } })

  const malformed = await fr.request('POST', '/api/v1/auth/login', { body: '{"username":', headers: { 'content-type': 'application/json' } })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().error.code, 'invalid_request')
  const poisoned = await fr.request('POST', '/api/v1/auth/login', {
    body: '{"username":"a@example.com","password":"long-enough","__proto__":{"admin":true}}',
    headers: { 'content-type': 'application/json' }
  })
  t.equal(poisoned.statusCode, 400)
  t.match(poisoned.json().error, { code: 'invalid_request', message: /forbidden key/, details: { field: 'body', reason: 'contains a forbidden key' } })

  const wrongType = await fr.request('POST', '/api/v1/auth/login', { body: 'username=a', headers: { 'content-type': 'text/plain' } })
  t.equal(wrongType.statusCode, 415)
  t.same(Object.keys(wrongType.json()), ['error'])
})

eachBackend('a database failure is a 500 internal_error that keeps its internals in the log', async (t, backend) => {
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs })
  await fr.app.db.close()
  const res = await fr.request('GET', '/api/v1/flows', { token: fr.admin.token })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { error: { code: 'internal_error', message: 'Internal server error', details: null } })
  t.match(logs.text, /unhandled error/)
})
