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
