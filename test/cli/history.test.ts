import { readFile, stat } from 'node:fs/promises'
import t from 'tap'
import { parseAuthProperties } from '../../src/evercycle/auth-properties.js'
import { startSimulator } from '../helpers/gateway.js'
import { parseJson, runCli, signedIn } from './helpers/cli.js'

t.test('history records calls with secrets redacted, shows bodies on request, and stays under its cap', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim, { EVERCYCLE_HISTORY_MAX_BYTES: '4096' })
  const tokens = parseAuthProperties(await readFile(ws.tokenFile, 'utf8'))

  t.equal((await runCli(ws, ['call', 'get-asset-id', '-p', 'id=1001'])).code, 0)
  t.equal((await runCli(ws, ['call', 'create', '--set', 'name=Box', '--set', 'password=hunter2', '--set', `note=${tokens?.idToken}`])).code, 0)
  t.equal((await runCli(ws, ['call', 'get-asset-id', '-p', 'id=4242'])).code, 1)
  t.equal((await runCli(ws, ['--no-history', 'call', 'get-all'])).code, 0)

  const table = await runCli(ws, ['history'])
  t.equal(table.code, 0, table.stderr)
  const rows = table.stdout.trim().split('\n')
  t.match(rows[0], /^TIME\s+OPERATION\s+METHOD\s+PATH\s+STATUS\s+MS$/)
  t.equal(rows.length, 4, 'three calls; --no-history kept one out')
  t.match(rows[1], /get-asset-id\s+GET\s+\/v1\/asset\/1001\s+200\s+\d+$/)
  t.match(rows[2], /create\s+POST\s+\/v1\/asset\/create\s+201\s+\d+$/)
  t.match(rows[3], /get-asset-id\s+GET\s+\/v1\/asset\/4242\s+404 upstream_error\s+\d+$/)

  const bodies = await runCli(ws, ['history', '--bodies', '--limit', '2'])
  t.match(bodies.stdout, /"name": "Box"/)
  t.match(bodies.stdout, /"password": "\[redacted\]"/)
  t.match(bodies.stdout, /"note": "\[redacted\]"/)
  t.match(bodies.stdout, /Asset 4242 not found/)

  const file = await readFile(ws.historyFile, 'utf8')
  t.notOk(file.includes('hunter2'))
  for (const secret of [tokens?.accessToken, tokens?.idToken, tokens?.refreshToken]) t.notOk(file.includes(secret as string))
  t.equal((await stat(ws.historyFile)).mode & 0o777, 0o600)

  // a body over its share of the cap (1/8) is kept as a preview
  t.equal((await runCli(ws, ['call', 'create', '--set', `notes=${'x'.repeat(2000)}`])).code, 0)
  const last = (await readFile(ws.historyFile, 'utf8')).trim().split('\n').at(-1) as string
  t.match(parseJson(last), { request: { body: { truncated: true, preview: /^\{"notes":"x+$/ } } })

  // well past the 4 KiB cap: the oldest entries go, the file stays under it
  for (let i = 0; i < 6; i++) t.equal((await runCli(ws, ['call', 'create', '--set', `notes=${'y'.repeat(400)}`, '--set', `name=n${i}`])).code, 0)
  t.ok((await stat(ws.historyFile)).size <= 4096)
  const entries = (await readFile(ws.historyFile, 'utf8')).trim().split('\n').map((l) => parseJson<{ request: { body?: { name?: string } } }>(l))
  t.equal(entries.at(-1)?.request.body?.name, 'n5', 'the newest entry is kept')
  t.notOk(entries.some((e) => e.request.body?.name === 'Box'), 'the oldest entries went')

  const cleared = await runCli(ws, ['history', '--clear'])
  t.equal(cleared.code, 0)
  t.match((await runCli(ws, ['history'])).stdout, /No history yet/)
})
