import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { request } from 'undici'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { tempDir, type Teardown } from '../helpers/gateway.js'
import { runCli } from '../cli/helpers/cli.js'

const REPO = path.resolve(import.meta.dirname, '..', '..')
const TSX = import.meta.resolve('tsx')
const DEMO = path.join(REPO, 'dev', 'demo.ts')

/** Another process listening on a loopback port, as whatever holds 5050 on a developer's machine would be. */
async function holdPort(t: Teardown): Promise<number> {
  const child = spawn(process.execPath, ['-e', "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))"], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => {
    child.kill()
  })
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  return Number(line)
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** Only what the demo needs: nothing of the developer's shell (DATABASE_URL, EVERCYCLE_*, PORT) leaks in. */
function demoEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra }
}

/** A child whose output is collected, with a wait on what it prints (events, not timers). */
class Child {
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>
  private waiters: Array<() => void> = []

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (c: Buffer) => this.take('stdout', c))
    child.stderr.on('data', (c: Buffer) => this.take('stderr', c))
    this.exited = once(child, 'close').then(([code]) => code as number | null)
    void this.exited.then(() => this.take('stdout', Buffer.alloc(0)))
  }

  static node(t: Teardown, script: string, args: string[], env: Record<string, string>, cwd = REPO): Child {
    const c = new Child(spawn(process.execPath, ['--import', TSX, script, ...args], { cwd, env, stdio: 'pipe' }))
    t.teardown(async () => {
      if (c.child.exitCode === null && c.child.signalCode === null) {
        c.child.kill('SIGTERM')
        await c.exited
      }
    })
    return c
  }

  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const m = pattern.exec(this.stdout)
      if (m !== null) return m
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`exited before ${pattern}:\n${this.stdout}\n${this.stderr}`)
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  private take(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this[stream] += chunk.toString('utf8')
    for (const wake of this.waiters.splice(0)) wake()
  }
}

function assertPortMessage(t: Tap, res: Child, code: number | null, port: number, variable: string): void {
  t.equal(code, 1)
  t.match(res.stderr, `Port ${port} is already in use`)
  t.match(res.stderr, `set ${variable}`)
  t.notMatch(res.stderr, /EADDRINUSE|\n\s+at /, 'no stack trace')
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

t.test('a port already taken: the demo, the simulator and the receiver name the port and the variable, exit 1', async (t) => {
  const held = await holdPort(t)
  const runs = await Promise.all([
    [Child.node(t, DEMO, [], demoEnv({ SIM_PORT: String(held), RECEIVER_PORT: '0' }), await tempDir(t, 'demo-')), 'SIM_PORT'],
    [Child.node(t, DEMO, [], demoEnv({ SIM_PORT: '0', RECEIVER_PORT: String(held) }), await tempDir(t, 'demo-')), 'RECEIVER_PORT'],
    [Child.node(t, path.join(REPO, 'dev', 'simulator', 'main.ts'), [], demoEnv({ SIM_PORT: String(held) })), 'SIM_PORT (or --port)'],
    [Child.node(t, path.join(REPO, 'dev', 'demo', 'webhook-receiver.ts'), ['--port', String(held)], demoEnv({})), 'RECEIVER_PORT (or --port)']
  ] as const)
  for (const [child, variable] of runs) assertPortMessage(t, child, await child.exited, held, variable)
})

t.test('the demo: pretty logs, then the banner, whose lines hold in the order printed; Ctrl-C ends it cleanly', async (t) => {
  const cwd = await tempDir(t, 'demo-')
  const port = await freePort()
  const demo = Child.node(t, DEMO, [], demoEnv({ SIM_PORT: '0', RECEIVER_PORT: '0', PORT: String(port) }), cwd)
  await demo.waitFor(/Ctrl-C stops everything\.\n/)
  const out = demo.stdout
  const bannerAt = out.indexOf('Evercycle gateway demo')
  t.ok(out.indexOf('Server listening at') >= 0 && out.indexOf('Server listening at') < bannerAt, 'the banner comes after the server listens')
  t.ok(out.lastIndexOf('request completed') < bannerAt, 'and after the setup requests\' logs')
  t.notMatch(out, /^\{"level"/m, 'no raw JSON log lines')
  t.notMatch(out, /WARN: unknown environment variable/, "the demo's own variables are known settings' neighbours, not typos")
  t.match(out, /^\[[\d:.]+\] INFO: Server listening at/m, 'pretty log lines')

  // the CLI lines: straight to the demo's simulator, not https://api.evercycle.io
  const simUrl = (/simulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out) as RegExpExecArray)[1] as string
  t.match(out, `export EVERCYCLE_BASE_URL=${simUrl} TOKEN_FILE=.demo/cli/auth.properties`)
  const cli = { env: demoEnv({ EVERCYCLE_BASE_URL: simUrl, TOKEN_FILE: '.demo/cli/auth.properties', EVERCYCLE_STATE_DIR: path.join(cwd, 'state') }) }
  const auth = await runCli(cli, ['auth', '--username', DEMO_USERNAME, '--password-stdin'], `${DEMO_PASSWORD}\n`, cwd)
  t.equal(auth.code, 0, auth.stderr)
  const one = await runCli(cli, ['call', 'get-asset-id', '--param', 'id=1001'], '', cwd)
  t.equal(one.code, 0, one.stderr)

  // "N assets are active after the create line above (M without it), fewer than K: no webhook"
  const claim = /(\d+) assets are active after the create line above\n\((\d+) without it\), fewer than (\d+): no webhook/.exec(out) as RegExpExecArray
  t.ok(claim, 'the banner says how many assets are active')
  const [after, before, min] = claim.slice(1).map(Number) as [number, number, number]
  t.equal(after, before + 1)
  t.ok(after < min)
  t.match(out, `-d '{"input":{"min_assets":${min}}}'`, 'the other branch\'s run line uses that number')

  const base = `http://127.0.0.1:${port}`
  // the console's line names its page and a login that works there
  const consoleLine = /console\s+(\S+)\s+\(log in as (\S+) \/ (\S+)\)/.exec(out) as RegExpExecArray
  t.ok(consoleLine, 'the banner names the console and its login')
  t.equal(consoleLine[1], `${base}/console/`)
  const page = await request(`${base}/console/`)
  t.equal(page.statusCode, 200, 'the console is served')
  t.match(await page.body.text(), '<div id="app">')
  const adminLogin = await request(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: consoleLine[2], password: consoleLine[3] }) })
  t.equal(adminLogin.statusCode, 200, "the console's login is the FlowRunner admin's")
  await adminLogin.body.dump()
  const key = (/x-api-key: (\S+)'/.exec(out) as RegExpExecArray)[1] as string
  const send = async (method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await request(`${base}${url}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) })
    return (await res.body.json()) as Record<string, unknown>
  }
  // in the order printed: the create line, the first run (a delivery), the other branch (none)
  await send('POST', '/api/create', { 'x-api-key': key }, { name: 'Demo laptop' })
  const active = await send('GET', '/api/get-all?status=active', { 'x-api-key': key })
  t.equal((active.data as { assets: unknown[] }).assets.length, after)
  const login = await send('POST', '/api/v1/auth/login', {}, { username: 'admin@demo.test', password: 'demo-admin-password' })
  const bearer = { authorization: `Bearer ${login.token as string}` }
  const flowId = (/flows\/(flow-[0-9a-f-]+)\/run /.exec(out) as RegExpExecArray)[1] as string
  const first = await send('POST', `/api/v1/flows/${flowId}/run?wait=10s`, bearer, { input: { status: 'active', min_assets: 1 } })
  t.match(first, { status: 'completed', result: { status_code: 200 } }, 'it ended with the webhook\'s answer')
  await demo.waitFor(new RegExp(`\\[webhook receiver\\] POST /hooks/asset-report  signature ok\\n.*"count":${after}`))
  const deliveries = demo.stdout.split('[webhook receiver]').length
  const other = await send('POST', `/api/v1/flows/${flowId}/run?wait=10s`, bearer, { input: { min_assets: min } })
  t.equal(other.status, 'completed')
  t.notMatch(other, { result: { status_code: Number } }, 'it ended at the condition, without calling the webhook')
  t.equal(demo.stdout.split('[webhook receiver]').length, deliveries, 'no webhook delivery for the other branch')

  demo.child.kill('SIGINT')
  t.equal(await demo.exited, 0, demo.stderr)
  t.match(demo.stdout, /INFO: shutting down: draining in-flight requests/)
})
