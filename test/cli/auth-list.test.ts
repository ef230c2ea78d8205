import { spawn } from 'node:child_process'
import { readdir, readFile, stat } from 'node:fs/promises'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { startSimulator } from '../helpers/gateway.js'
import { parseJson, PromptDriver, REPO, runCli, workspace } from './helpers/cli.js'

const OPERATIONS = ['create', 'create-request', 'edit-asset-id', 'get-all', 'get-asset-id', 'grade']

t.test('auth signs in and writes auth.properties (0600) without printing a token', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim)
  const res = await runCli(ws, ['auth', '--username', DEMO_USERNAME, '--password-stdin'], `${DEMO_PASSWORD}\n`)
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, `Signed in to Evercycle as ${DEMO_USERNAME} (${sim.url}). Tokens saved to ${ws.tokenFile} (mode 0600, valid until `)
  t.equal(sim.counts.signIns, 1)
  t.same(sim.callsTo('POST', '/v1/auth/signin')[0]?.body, { username: DEMO_USERNAME, password: DEMO_PASSWORD })

  const file = await readFile(ws.tokenFile, 'utf8')
  t.equal((await stat(ws.tokenFile)).mode & 0o777, 0o600)
  const tokens = Object.fromEntries(file.split('\n').filter((l) => l.includes('=')).map((l) => l.split(/=(.*)/s).slice(0, 2)))
  t.match(tokens.AccessToken, /^sim-at-/)
  t.match(tokens.RefreshToken, /^sim-rt-/)
  for (const secret of [tokens.AccessToken, tokens.IdToken, tokens.RefreshToken, DEMO_PASSWORD]) {
    t.notOk(res.stdout.includes(secret) || res.stderr.includes(secret), 'no secret in the output')
  }
  // the token goes to auth.properties only: no config file gets a copy as the old tool did
  t.same(await readdir(ws.configDir), [])
})

t.test('auth with a wrong password exits 1 with the gateway error shape and keeps no tokens', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim)
  const res = await runCli(ws, ['auth', '-u', DEMO_USERNAME, '--password-stdin'], 'wrong-password\n')
  t.equal(res.code, 1)
  t.equal(res.stdout, '')
  const body = parseJson<{ status: string; message: string; error: { code: string; message: string; details: unknown } }>(res.stderr)
  t.equal(body.status, 'error')
  t.equal(body.error.code, 'unauthorized')
  t.equal(body.message, body.error.message)
  t.notOk(res.stderr.includes('wrong-password'))
  await t.rejects(stat(ws.tokenFile), { code: 'ENOENT' })
})

t.test('auth without a password on a non-terminal stdin says how to give one', async (t) => {
  const ws = await workspace(t, undefined)
  const res = await runCli(ws, ['auth', '-u', DEMO_USERNAME])
  t.equal(res.code, 2)
  t.match(parseJson<{ error: { code: string; message: string } }>(res.stderr).error, { code: 'usage_error', message: /--password-stdin/ })
})

t.test('auth takes EVERCYCLE_USERNAME/PASSWORD like the server does', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim, { EVERCYCLE_USERNAME: DEMO_USERNAME, EVERCYCLE_PASSWORD: DEMO_PASSWORD })
  const res = await runCli(ws, ['auth'])
  t.equal(res.code, 0, res.stderr)
  t.equal(sim.counts.signIns, 1)
})

t.test('list prints a table and --json the gateway /api/list entries', async (t) => {
  const ws = await workspace(t, undefined)
  const table = await runCli(ws, ['list'])
  t.equal(table.code, 0, table.stderr)
  const lines = table.stdout.trim().split('\n')
  t.match(lines[0], /^NAME\s+METHOD\s+PATH\s+DESCRIPTION$/)
  t.same(lines.slice(1).map((l) => l.split(/\s+/)[0]), OPERATIONS)
  t.match(table.stdout, /grade\s+PUT\s+\/v1\/pricebook\/\{id\}\/\{grade\}\s+Update a pricebook grade/)

  const json = await runCli(ws, ['list', '--json'])
  t.equal(json.code, 0)
  const apis = parseJson<Array<{ name: string; method: string; path: string; parameters: unknown[] }>>(json.stdout)
  t.same(apis.map((a) => a.name), OPERATIONS)
  t.match(apis.find((a) => a.name === 'get-asset-id'), {
    method: 'GET',
    path: '/v1/asset/{id}',
    parameters: [{ name: 'id', in: 'query', required: true }]
  })
  t.match(apis.find((a) => a.name === 'grade')?.parameters, [{ name: 'id', in: 'body' }, { name: 'grade', in: 'body' }])
})

t.test('list honours EVERCYCLE_CONFIG_DIR: a config adds an operation and overrides defaults', async (t) => {
  const ws = await workspace(t, undefined)
  const { writeFile } = await import('node:fs/promises')
  await writeFile(`${ws.configDir}/asset-history.json`, JSON.stringify({ method: 'GET', path: '/v1/asset/{id}/history', description: 'History' }))
  const res = await runCli(ws, ['list', '--json'])
  t.equal(res.code, 0, res.stderr)
  t.match(parseJson<Array<{ name: string }>>(res.stdout).find((a) => a.name === 'asset-history'), { path: '/v1/asset/{id}/history' })

  await writeFile(`${ws.configDir}/broken.json`, '{"method": "FETCH", "path": "/x"}')
  const broken = await runCli(ws, ['list'])
  t.equal(broken.code, 1)
  t.match(parseJson<{ error: { code: string; message: string } }>(broken.stderr).error, {
    code: 'configuration_error',
    message: /broken\.json: "method" must be one of/
  })
})

t.test('--help is complete for the program and every command', async (t) => {
  const ws = await workspace(t, undefined)
  const main = await runCli(ws, ['--help'])
  t.equal(main.code, 0)
  for (const name of ['auth', 'list', 'call', 'run', 'generate', 'interactive', 'history']) t.match(main.stdout, new RegExp(`\\n  ${name}\\b`))
  for (const text of ['--gateway <url>', '--api-key <key>', 'EVERCYCLE_BASE_URL', 'EVERCYCLE_CONFIG_DIR', 'TOKEN_FILE', 'UPSTREAM_TIMEOUT_MS', 'Examples:']) {
    t.match(main.stdout, text)
  }
  const expected: Record<string, string[]> = {
    auth: ['--username <username>', '--password-stdin', 'Examples:'],
    list: ['--json', 'Examples:'],
    call: ['<operation>', '--param <key=value>', '--query <key=value>', '--body <json|@file|@->', '--set <key=value>', 'Exit codes', 'Examples:'],
    run: ['[operations...]', '--all', '--bail', '--json', 'Exit codes', 'Examples:'],
    generate: ['<specs-dir>', '--out <config-dir>', '--force', '--dry-run', '.evercycle-generated', 'Examples:'],
    interactive: ['Sign in', 'Examples:'],
    history: ['--bodies', '--limit <n>', '--clear', 'EVERCYCLE_HISTORY_MAX_BYTES', 'Examples:']
  }
  const helps = await Promise.all(Object.keys(expected).map((name) => runCli(ws, [name, '--help'])))
  for (const [i, [name, texts]] of Object.entries(expected).entries()) {
    const res = helps[i] as Awaited<ReturnType<typeof runCli>>
    t.equal(res.code, 0, `${name} --help`)
    t.match(res.stdout, `Usage: evercycle ${name}`)
    t.match(res.stdout, '--gateway <url>', `${name} --help shows the global options`)
    for (const text of texts) t.match(res.stdout, text, `${name} --help mentions ${text}`)
  }
  const version = await runCli(ws, ['--version'])
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  const unknown = await runCli(ws, ['frobnicate'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, "unknown command 'frobnicate'")
})

t.test('auth on a terminal prompts for the username and a hidden password', async (t) => {
  const sim = await startSimulator(t)
  const ws = await workspace(t, sim)
  // a pseudo-terminal through util-linux `script`, so the CLI sees a TTY as a person's shell would give it
  const command = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'auth'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO, env: ws.env, stdio: 'pipe' })
  const cli = new PromptDriver(child)
  await cli.answer(/Evercycle username/, `${DEMO_USERNAME}\r`)
  await cli.answer(/Password for demo@evercycle\.test/, `${DEMO_PASSWORD}\r`)
  await cli.waitFor(/Tokens saved to/)
  child.stdin.end()
  t.equal(await cli.exited, 0)
  t.notOk(cli.text.includes(DEMO_PASSWORD), 'the password is not echoed')
  t.equal(sim.counts.signIns, 1)
  t.equal((await stat(ws.tokenFile)).mode & 0o777, 0o600)
})
