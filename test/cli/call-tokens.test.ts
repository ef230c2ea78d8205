import { readFile, stat } from 'node:fs/promises'
import t from 'tap'
import { parseAuthProperties } from '../../src/evercycle/auth-properties.js'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { startSimulator } from '../helpers/gateway.js'
import { parseJson, runCli, signedIn, workspace, type ErrorReply } from './helpers/cli.js'

t.test('expired tokens are refreshed at call time and saved back to auth.properties', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  const before = parseAuthProperties(await readFile(ws.tokenFile, 'utf8'))
  sim.expireTokens()
  const res = await runCli(ws, ['call', 'get-asset-id', '-p', 'id=1001'])
  t.equal(res.code, 0, res.stderr)
  t.equal(sim.counts.refreshes, 1)
  t.equal(sim.counts.signIns, 0)
  const after = parseAuthProperties(await readFile(ws.tokenFile, 'utf8'))
  t.not(after?.accessToken, before?.accessToken)
  t.equal(after?.refreshToken, before?.refreshToken)
  t.equal((await stat(ws.tokenFile)).mode & 0o777, 0o600)
  for (const secret of [after?.accessToken, after?.idToken, after?.refreshToken, before?.accessToken]) {
    t.notOk(res.stdout.includes(secret as string) || res.stderr.includes(secret as string))
  }
})

t.test('a refused refresh signs in again with EVERCYCLE_USERNAME/PASSWORD', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim, { EVERCYCLE_USERNAME: DEMO_USERNAME, EVERCYCLE_PASSWORD: DEMO_PASSWORD })
  sim.expireTokens()
  sim.revokeRefreshTokens()
  const res = await runCli(ws, ['call', 'get-all'])
  t.equal(res.code, 0, res.stderr)
  t.equal(sim.counts.failedRefreshes, 1)
  t.equal(sim.counts.signIns, 1)
})

t.test('a token revoked early (upstream 401) is renewed once and the call retried', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  sim.revokeAccessTokens()
  const res = await runCli(ws, ['call', 'get-all'])
  t.equal(res.code, 0, res.stderr)
  t.equal(sim.counts.unauthorized, 1)
  t.equal(sim.counts.refreshes, 1)
})

t.test('without tokens or credentials the call says to run evercycle auth', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim)
  const res = await runCli(ws, ['call', 'get-all'])
  t.equal(res.code, 1)
  t.match(parseJson<ErrorReply>(res.stderr).error, { code: 'unauthorized', message: /run `evercycle auth`/ })
  t.equal(sim.calls.length, 0)
})

t.test('an unreachable Evercycle is an upstream_unavailable error', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  await sim.down()
  const res = await runCli(ws, ['call', 'get-all'])
  t.equal(res.code, 1)
  t.match(parseJson<ErrorReply>(res.stderr).error, { code: 'upstream_unavailable', details: { reason: 'connection_refused' } })
})

t.test('tokens Evercycle revoked, and no credentials: direct mode says to run evercycle auth, never the gateway\'s POST /api/auth', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  sim.revokeAccessTokens()
  sim.revokeRefreshTokens()
  const call = await runCli(ws, ['call', 'get-all'])
  t.equal(call.code, 1)
  const error = parseJson<ErrorReply>(call.stderr).error
  t.match(error, { code: 'unauthorized', message: /run `evercycle auth`/ })
  t.notMatch(error.message, /POST \/api\/auth/)
  const run = await runCli(ws, ['run', 'get-all'])
  t.equal(run.code, 1)
  t.match(run.stderr, /run `evercycle auth`/)
  t.notMatch(run.stderr + run.stdout, /POST \/api\/auth/)
})

t.test('an unreachable or unresolvable Evercycle: the error names the URL tried and EVERCYCLE_BASE_URL', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  await sim.down()
  const refused = await runCli(ws, ['call', 'get-all'])
  t.equal(refused.code, 1)
  const error = parseJson<ErrorReply>(refused.stderr).error
  t.match(error, { code: 'upstream_unavailable', details: { reason: 'connection_refused', url: sim.url } })
  t.match(error.message, `Evercycle is unreachable at ${sim.url} (connection_refused)`)
  t.match(error.message, 'EVERCYCLE_BASE_URL')

  // the README's first line on a fresh clone, with a base URL that cannot resolve (.invalid never does)
  const nowhere = 'https://evercycle-cli-test.invalid'
  const auth = await runCli({ env: { ...ws.env, EVERCYCLE_BASE_URL: nowhere } }, ['auth', '-u', DEMO_USERNAME, '--password-stdin'], `${DEMO_PASSWORD}\n`)
  t.equal(auth.code, 1)
  const dns = parseJson<ErrorReply>(auth.stderr).error
  t.match(dns, { code: 'upstream_unavailable', details: { reason: 'dns_failure', url: nowhere } })
  t.match(dns.message, `Evercycle is unreachable at ${nowhere} (dns_failure): set EVERCYCLE_BASE_URL`)
  t.notOk(auth.stderr.includes(DEMO_PASSWORD), 'the password is not printed')
})
