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

t.test('an unknown --query is a command-line error (exit 2) for operations that declare their query; get-all passes it through', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  const calls = sim.calls.length
  const [onGet, onCreate, onGrade] = await Promise.all([
    runCli(ws, ['call', 'get-asset-id', '-p', 'id=1001', '--query', 'colour=red']),
    runCli(ws, ['call', 'create', '--set', 'name=Box', '-q', 'dry_run=1', '-q', 'force=yes']),
    runCli(ws, ['call', 'grade', '-p', 'id=PB-1', '-p', 'grade=A', '-q', 'price=1'])
  ])
  t.equal(onGet.code, 2)
  t.match(parseJson<ErrorReply>(onGet.stderr).error, { code: 'usage_error', message: 'get-asset-id has no query parameter "colour"', details: { query_params: ['id'] } })
  t.equal(onCreate.code, 2)
  t.match(parseJson<ErrorReply>(onCreate.stderr).error, { code: 'usage_error', message: 'create has no query parameter "dry_run", "force"', details: { query_params: [] } })
  t.equal(onGrade.code, 2)
  t.match(parseJson<ErrorReply>(onGrade.stderr).error, { code: 'usage_error', message: 'grade has no query parameter "price"' })
  for (const res of [onGet, onCreate, onGrade]) t.equal(res.stdout, '')
  t.equal(sim.calls.length, calls, 'nothing refused reached Evercycle')

  // a path parameter given as the query parameter it is stays accepted
  const asQuery = await runCli(ws, ['call', 'get-asset-id', '--query', 'id=1001'])
  t.equal(asQuery.code, 0, asQuery.stderr)

  const passed = await runCli(ws, ['call', 'get-all', '--query', 'status=active', '--query', 'colour=red'])
  t.equal(passed.code, 0, passed.stderr)
  t.equal(sim.callsTo('GET', '/v1/asset').at(-1)?.query, 'status=active&colour=red')
})
