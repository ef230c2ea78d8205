import t from 'tap'
import { startSimulator } from '../helpers/gateway.js'
import { assertMissingAsset, parseJson, runCli, signedIn, type ErrorReply } from './helpers/cli.js'

t.test('failures exit non-zero with the gateway error shape on stderr and nothing on stdout', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)

  await assertMissingAsset(t, ws)

  // none of these reaches Evercycle, so they run side by side
  const calls = sim.calls.length
  const [invalid, badPrice, unknown, wrongParam, getWithBody, badJson, poison] = await Promise.all([
    runCli(ws, ['call', 'get-asset-id']),
    runCli(ws, ['call', 'grade', '-p', 'id=1', '-p', 'grade=A', '--set', 'price=cheap']),
    runCli(ws, ['call', 'no-such-operation']),
    runCli(ws, ['call', 'get-all', '--param', 'id=1']),
    runCli(ws, ['call', 'get-all', '--set', 'a=b']),
    runCli(ws, ['call', 'create', '--body', '{nope']),
    runCli(ws, ['call', 'create', '--body', '{"__proto__":{"admin":true}}'])
  ])
  t.equal(invalid.code, 1)
  t.match(parseJson<ErrorReply>(invalid.stderr), { status: 'error', error: { code: 'validation_error', details: [{ field: 'query.id' }] } })
  t.equal(badPrice.code, 1)
  t.match(parseJson<ErrorReply>(badPrice.stderr).error, { code: 'validation_error', details: [{ field: 'body.price' }] })
  t.equal(unknown.code, 1)
  t.match(parseJson<ErrorReply>(unknown.stderr).error, { code: 'not_found', details: { known: ['create', 'create-request', 'edit-asset-id', 'get-all', 'get-asset-id', 'grade'] } })
  t.equal(wrongParam.code, 2)
  t.match(parseJson<ErrorReply>(wrongParam.stderr).error, { code: 'usage_error', message: 'get-all has no path parameter "id"' })
  t.equal(getWithBody.code, 2)
  t.match(parseJson<ErrorReply>(getWithBody.stderr).error, { code: 'usage_error', message: /takes no body/ })
  t.equal(badJson.code, 2)
  t.match(parseJson<ErrorReply>(badJson.stderr).error.message, /--body is not valid JSON/)
  t.equal(poison.code, 1)
  t.match(parseJson<ErrorReply>(poison.stderr).error, { code: 'validation_error', message: /Forbidden key "__proto__"/ })
  for (const res of [invalid, badPrice, unknown, wrongParam, getWithBody, badJson, poison]) t.equal(res.stdout, '')
  t.equal(sim.calls.length, calls, 'nothing invalid reached Evercycle')

  sim.settings.bodyMode = 'error'
  const upstream500 = await runCli(ws, ['call', 'get-all'])
  t.equal(upstream500.code, 1)
  t.match(parseJson<ErrorReply>(upstream500.stderr).error, { code: 'upstream_error', details: { upstream_status: 500 } })
})
