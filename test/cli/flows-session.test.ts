import { stat, writeFile } from 'node:fs/promises'
import tap from 'tap'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/flowrunner.js'
import { errorOf, flowsCli, flowsServer, loginAdmin, savedSessions } from './helpers/flows.js'

// one server for the file: the CLI children are what is under test
const server = await flowsServer(tap)
const { fr, url } = server

tap.test('login: password from stdin, token kept 0600 in the state directory, keyed by server', async (t) => {
  const cli = await flowsCli(t, url, { FLOWRUNNER_EMAIL: ADMIN_EMAIL })
  const res = await cli.run(['login'], `${ADMIN_PASSWORD}\n`)
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, `Logged in to ${url} as ${ADMIN_EMAIL}`)
  t.match(res.stdout, 'mode 0600')
  t.notMatch(res.stdout + res.stderr, ADMIN_PASSWORD)
  t.equal((await stat(cli.sessionFile)).mode & 0o777, 0o600)
  t.equal((await stat(cli.stateDir)).mode & 0o777, 0o700)
  const sessions = await savedSessions(cli)
  t.same(Object.keys(sessions), [url])
  t.equal(sessions[url]?.accountId, fr.admin.id)
  t.notMatch(JSON.stringify(sessions), ADMIN_PASSWORD, 'the password is not kept')
  t.notMatch(res.stdout, sessions[url]?.token ?? 'x', 'the token is never printed')

  const list = await cli.run(['list'])
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /^ID\s+NAME/)

  // --server (after the subcommand too) wins over FLOWRUNNER_URL, and names a server with no login
  const other = await cli.run(['list', '--server', 'http://127.0.0.1:9'])
  t.equal(other.code, 1)
  t.match(errorOf(other.stderr).error, { code: 'unauthorized', message: /Not logged in to FlowRunner at http:\/\/127\.0\.0\.1:9/ })
})

tap.test('login errors: wrong password exits 1, missing email or password and a bad --server exit 2', async (t) => {
  const cli = await flowsCli(t, url)
  const wrong = await cli.run(['login', '--email', ADMIN_EMAIL], 'not-the-password\n')
  t.equal(wrong.code, 1)
  t.equal(errorOf(wrong.stderr).error.code, 'unauthorized')
  t.notMatch(wrong.stderr, 'not-the-password')

  const noEmail = await cli.run(['login'], `${ADMIN_PASSWORD}\n`)
  t.equal(noEmail.code, 2)
  t.match(errorOf(noEmail.stderr).error, { code: 'usage_error', message: /FLOWRUNNER_EMAIL/ })

  const noPassword = await cli.run(['login', '--email', ADMIN_EMAIL], '')
  t.equal(noPassword.code, 2)
  t.match(errorOf(noPassword.stderr).error.message, /never taken as an argument/)

  const asArgument = await cli.run(['login', '--email', ADMIN_EMAIL, '--password', ADMIN_PASSWORD])
  t.equal(asArgument.code, 2, 'there is no --password option')

  const badServer = await cli.run(['--server', 'ftp://example.com', 'list'])
  t.equal(badServer.code, 2)
  t.equal(errorOf(badServer.stderr).error.code, 'usage_error')

  const unreachable = await cli.run(['--server', 'http://127.0.0.1:9', 'login', '--email', ADMIN_EMAIL], `${ADMIN_PASSWORD}\n`)
  t.equal(unreachable.code, 1)
  t.equal(errorOf(unreachable.stderr).error.code, 'unreachable')
})

tap.test('a token past half its life is refreshed before use; an expired one asks for a new login', async (t) => {
  const cli = await flowsCli(t, url)
  await loginAdmin(cli)
  const first = (await savedSessions(cli))[url]
  if (first === undefined) throw new Error('no session')
  // as if obtained long ago: past half its life, still valid
  const lifetime = first.expiresAt - first.obtainedAt
  await writeFile(cli.sessionFile, JSON.stringify({ version: 1, sessions: { [url]: { ...first, obtainedAt: first.expiresAt - 4 * lifetime } } }))
  const list = await cli.run(['list'])
  t.equal(list.code, 0, list.stderr)
  const refreshed = (await savedSessions(cli))[url]
  t.not(refreshed?.token, first.token, 'a new token was saved')
  t.equal((await stat(cli.sessionFile)).mode & 0o777, 0o600)
  t.equal((await fr.request('GET', '/api/v1/flows', { token: first.token })).statusCode, 401, 'the refresh revoked the old token')
  t.equal((await fr.request('GET', '/api/v1/flows', { token: refreshed?.token })).statusCode, 200)

  await writeFile(cli.sessionFile, JSON.stringify({ version: 1, sessions: { [url]: { ...refreshed, expiresAt: Date.now() - 1000 } } }))
  const expired = await cli.run(['list'])
  t.equal(expired.code, 1)
  t.match(errorOf(expired.stderr).error, { code: 'unauthorized', message: /expired .* cannot be refreshed\. Log in again: evercycle flows login/ })
})

tap.test('logout revokes the token and forgets it; a revoked token says to log in again', async (t) => {
  const cli = await flowsCli(t, url)
  await loginAdmin(cli)
  const token = (await savedSessions(cli))[url]?.token
  const out = await cli.run(['logout'])
  t.equal(out.code, 0, out.stderr)
  t.match(out.stdout, `Logged out of ${url}`)
  t.same(await savedSessions(cli), {})
  t.equal((await fr.request('GET', '/api/v1/flows', { token })).statusCode, 401, 'revoked on the server')
  t.match((await cli.run(['logout'])).stdout, 'Not logged in')

  // a login revoked elsewhere (here: by the API) fails with the hint
  await loginAdmin(cli)
  const saved = (await savedSessions(cli))[url]?.token
  await fr.request('POST', '/api/v1/auth/logout', { token: saved })
  const list = await cli.run(['list'])
  t.equal(list.code, 1)
  t.match(errorOf(list.stderr).error, { code: 'unauthorized', message: /Log in again: evercycle flows login --server/ })
})
