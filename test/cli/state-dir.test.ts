import { chmod, mkdir, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { startSimulator, tempDir } from '../helpers/gateway.js'
import { parseJson, runCli, workspace, type Workspace } from './helpers/cli.js'
import { gateway } from './helpers/gateway-server.js'

/** The environment of a fresh clone: no token file, history file or state dir set, only where $XDG_STATE_HOME is. */
function fresh(ws: Workspace, xdg: string, extra: Record<string, string> = {}): { env: Record<string, string> } {
  const env: Record<string, string> = { ...ws.env }
  for (const name of ['TOKEN_FILE', 'EVERCYCLE_CONFIG_DIR', 'EVERCYCLE_HISTORY_FILE', 'EVERCYCLE_STATE_DIR']) delete env[name]
  return { env: { ...env, XDG_STATE_HOME: xdg, ...extra } }
}

t.test('a fresh run leaves nothing in the working directory: history and session cookie go to the state dir (0700)', async (t) => {
  const sim = await startSimulator(t)
  const gw = await gateway(t, sim, {}, { GATEWAY_AUTH: 'session' })
  const ws = await workspace(t, sim)
  const cwd = await tempDir(t, 'cli-cwd-')
  const xdg = path.join(await tempDir(t, 'cli-xdg-'), 'state')
  const env = fresh(ws, xdg)
  const state = path.join(xdg, 'evercycle')

  // direct mode, not signed in: the call fails and is recorded
  const direct = await runCli(env, ['call', 'get-all'], '', cwd)
  t.equal(direct.code, 1)
  // through a gateway: the session cookie and a recorded call
  const via = ['--gateway', gw.url]
  const auth = await runCli(env, [...via, 'auth', '-u', DEMO_USERNAME, '--password-stdin'], `${DEMO_PASSWORD}\n`, cwd)
  t.equal(auth.code, 0, auth.stderr)
  t.match(auth.stdout, `The session cookie is kept in ${path.join(state, 'gateway-sessions')} (mode 0600)`)
  const call = await runCli(env, [...via, 'call', 'get-asset-id', '-p', 'id=1001'], '', cwd)
  t.equal(call.code, 0, call.stderr)
  const history = await runCli(env, ['history'], '', cwd)
  t.equal(history.code, 0, history.stderr)
  t.match(history.stdout, /get-asset-id\s+GET\s+\/v1\/asset\/1001\s+200/)

  t.same(await readdir(cwd), [], 'nothing in the working directory')
  t.equal((await stat(state)).mode & 0o777, 0o700)
  t.same((await readdir(state)).sort(), ['gateway-sessions', 'history.jsonl'])
  for (const file of ['gateway-sessions', 'history.jsonl']) t.equal((await stat(path.join(state, file))).mode & 0o777, 0o600, file)
  const lines = (await readFile(path.join(state, 'history.jsonl'), 'utf8')).trim().split('\n')
  t.match(parseJson(lines[0] as string), { operation: 'get-all', ok: false, error: { code: 'unauthorized' } })
})

t.test('EVERCYCLE_STATE_DIR wins over XDG_STATE_HOME and is tightened to 0700; EVERCYCLE_HISTORY_FILE still wins for the history', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim)
  const cwd = await tempDir(t, 'cli-cwd-')
  const xdg = path.join(await tempDir(t, 'cli-xdg-'), 'state')
  const own = path.join(ws.dir, 'own-state')
  await mkdir(own, { mode: 0o755 })
  await chmod(own, 0o755)

  const res = await runCli(fresh(ws, xdg, { EVERCYCLE_STATE_DIR: own }), ['call', 'get-all'], '', cwd)
  t.equal(res.code, 1)
  t.same(await readdir(own), ['history.jsonl'])
  t.equal((await stat(own)).mode & 0o777, 0o700, 'an existing state dir is tightened')
  await t.rejects(stat(xdg), { code: 'ENOENT' }, 'XDG_STATE_HOME unused')

  const configured = path.join(ws.dir, 'elsewhere', 'calls.jsonl')
  const other = await runCli(fresh(ws, xdg, { EVERCYCLE_STATE_DIR: own, EVERCYCLE_HISTORY_FILE: configured }), ['call', 'get-all'], '', cwd)
  t.equal(other.code, 1)
  t.equal((await readFile(configured, 'utf8')).trim().split('\n').length, 1)
  t.equal((await readFile(path.join(own, 'history.jsonl'), 'utf8')).trim().split('\n').length, 1, 'the state dir\'s history untouched')
  t.same(await readdir(cwd), [])
})
