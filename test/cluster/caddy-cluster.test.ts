import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import path from 'node:path'
import t from 'tap'
import WebSocket from 'ws'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, SECRETS_KEY, testSchema } from '../helpers/flowrunner.js'
import { startSimulator, tempDir } from '../helpers/gateway.js'
import { startReceiver } from '../helpers/receiver.js'
import { spawnTracked, startServer, type StartedServer } from '../helpers/spawn-server.js'

const CADDY = process.env.CADDY_PATH ?? '/usr/bin/caddy'
const USERS = { [DEMO_USERNAME]: DEMO_PASSWORD, 'alice@example.com': 'alice-pw-1' }
const KEY = 'cluster-api-key-0123456789'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>
}

t.test('three replicas behind Caddy behave as one gateway', async (t) => {
  const sim = await startSimulator(t, { users: USERS, tokenTtlMs: 120_000 })
  const receiver = await startReceiver(t)
  // the first call to /slow hangs (its replica will be killed); the retry on another replica is answered
  receiver.on('/slow', { hang: true }, { status: 200, body: { ok: true } }).on('/done', { status: 200, body: { ok: true } })
  const { url, schema } = await testSchema(t)
  const dir = await tempDir(t, 'cluster-')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PORT: '0',
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: '4',
    FLOWRUNNER_QUEUE_SCHEMA: `${schema}_q`,
    EVERCYCLE_BASE_URL: sim.url,
    EVERCYCLE_USERNAME: DEMO_USERNAME,
    EVERCYCLE_PASSWORD: DEMO_PASSWORD,
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    DATA_DIR: path.join(dir, 'data'),
    GATEWAY_AUTH: 'session',
    GATEWAY_API_KEYS: KEY,
    SESSION_SECRET: 'cluster-session-secret-0123456789abcdef',
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY,
    FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`,
    FLOWRUNNER_NODE_TIMEOUT: '5000',
    TRUST_PROXY: '127.0.0.1',
    LOG_LEVEL: 'info'
  }
  const replicas: StartedServer[] = []
  for (let i = 0; i < 3; i++) {
    replicas.push(await startServer(t, { ...env, TOKEN_FILE: path.join(dir, `auth-${i}.properties`) }))
  }
  const [a, b, c] = replicas
  if (a === undefined || b === undefined || c === undefined) throw new Error('replicas')

  const caddyPort = await freePort()
  const upstreams = replicas.map((r) => r.url.replace('http://', '')).join(' ')
  const caddyfile = path.join(dir, 'Caddyfile')
  await writeFile(
    caddyfile,
    `{
  admin off
  auto_https off
}
http://127.0.0.1:${caddyPort} {
  reverse_proxy ${upstreams} {
    lb_policy round_robin
    lb_try_duration 5s
    lb_try_interval 100ms
    health_uri /api/ready
    health_interval 1s
    health_timeout 2s
    fail_duration 10s
  }
}
`
  )
  const caddy = spawnTracked(t, CADDY, ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    PATH: process.env.PATH,
    XDG_DATA_HOME: path.join(dir, 'caddy-data'),
    XDG_CONFIG_HOME: path.join(dir, 'caddy-config'),
    HOME: dir
  })
  caddy.stdout?.resume()
  const front = `http://127.0.0.1:${caddyPort}`
  let up = false
  for (let i = 0; i < 100 && !up; i++) {
    up = await fetch(`${front}/api/health`).then((r) => r.ok, () => false)
    if (!up) await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(up, 'Caddy answers')

  t.test('300 concurrent calls through Caddy at token expiry: exactly one upstream refresh', async (t) => {
    t.equal((await fetch(`${front}/api/get-all`, { headers: { 'x-api-key': KEY } })).status, 200)
    sim.expireTokens()
    sim.reset()
    const replies = await Promise.all(Array.from({ length: 300 }, () => fetch(`${front}/api/get-all`, { headers: { 'x-api-key': KEY } })))
    t.same(new Set(replies.map((r) => r.status)), new Set([200]))
    await Promise.all(replies.map((r) => r.arrayBuffer()))
    t.equal(sim.counts.refreshes, 1, 'one refresh for the whole cluster')
    t.equal(sim.counts.signIns, 0)
  })

  t.test('a session started on A works on B and C', async (t) => {
    const login = await fetch(`${a.url}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice@example.com', password: 'alice-pw-1' })
    })
    t.equal(login.status, 200)
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    t.match(cookie, /^evercycle_session=/)
    for (const r of [b, c]) t.equal((await fetch(`${r.url}/api/get-all`, { headers: { cookie } })).status, 200)
  })

  t.test('the console through Caddy: every replica serves the same build, and each asset it names', async (t) => {
    const pages = await Promise.all([1, 2, 3].map(async () => {
      const res = await fetch(`${front}/console/`)
      t.equal(res.status, 200)
      t.match(res.headers.get('content-security-policy') ?? '', /style-src 'self' 'nonce-/)
      return (await res.text()).replace(/name="csp-nonce" content="[^"]*"/, '')
    }))
    t.equal(new Set(pages).size, 1, 'one document but for its nonce, whichever replica answered')
    const assets = [...(pages[0] ?? '').matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '')
    t.ok(assets.length >= 2, 'a script and a stylesheet')
    for (const asset of assets) for (const r of [a, b, c]) t.equal((await fetch(`${r.url}${asset}`)).status, 200, `${asset} on ${r.url}`)
  })

  const login = await json(await fetch(`${a.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN_EMAIL, password: ADMIN_PASSWORD })
  }))
  const token = String(login.token)
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const createFlow = async (definition: string): Promise<string> =>
    String((await json(await fetch(`${a.url}/api/v1/flows`, { method: 'POST', headers: auth, body: JSON.stringify({ definition }) }))).id)

  t.test('an execution started on A, watched over WebSocket on B, cancelled through C', async (t) => {
    const flowId = await createFlow(`
metadata:
  name: wait
nodes:
  start:
    type: delay
    params:
      duration: 60s
    next:
      default: done
  done:
    type: webhook
    params:
      url: ${receiver.url}/done
`)
    const run = await json(await fetch(`${a.url}/api/v1/flows/${flowId}/run`, { method: 'POST', headers: auth, body: '{"input":{}}' }))
    const id = String(run.execution_id)
    const socket = new WebSocket(`${b.url.replace('http', 'ws')}/ws/executions/${id}`, { headers: { authorization: `Bearer ${token}` } })
    const messages: Array<{ type: string }> = []
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)))
    // the delay waits at `start`: the state B sends on connect says so when A got there first, else the live
    // update relayed from A does
    const delayed = new Promise<void>((resolve) =>
      socket.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { type: string; status?: string; node_id?: string }
        messages.push(m)
        if (m.type === 'execution_update' && m.status === 'waiting' && m.node_id === 'start') resolve()
      })
    )
    await delayed
    const cancel = await fetch(`${c.url}/api/v1/executions/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    t.equal(cancel.status, 200)
    t.equal(await closed, 1000)
    t.equal(messages.at(-1)?.type, 'execution_cancelled', 'B saw the cancel made through C')
    t.equal(receiver.to('/done').length, 0)
  })

  t.test('SIGKILL the replica running an execution: it completes on another, Caddy keeps answering', async (t) => {
    const flowId = await createFlow(`
metadata:
  name: survive
nodes:
  start:
    type: delay
    params:
      duration: 500
    next:
      default: slow
  slow:
    type: http.request
    params:
      url: ${receiver.url}/slow
    timeout: 5s
    next:
      default: done
  done:
    type: webhook
    params:
      url: ${receiver.url}/done
`)
    const run = await json(await fetch(`${front}/api/v1/flows/${flowId}/run`, { method: 'POST', headers: auth, body: '{"input":{}}' }))
    const id = String(run.execution_id)
    // the live "Node started" event names the replica (host:pid) running the slow node
    const socket = new WebSocket(`${front.replace('http', 'ws')}/ws/executions/${id}?token=${token}`)
    const worker = await new Promise<string>((resolve) =>
      socket.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { type: string; message?: string; node_id?: string; data?: { worker?: string } }
        if (m.type === 'log' && m.message === 'Node started' && m.node_id === 'slow' && m.data?.worker !== undefined) resolve(m.data.worker)
      })
    )
    socket.close()
    await receiver.arrival('/slow')
    const pid = Number(worker.split(':').at(-1))
    const victim = replicas.find((r) => r.child.pid === pid)
    t.ok(victim, `the replica running the node is one of ours (pid ${pid})`)
    const killedAt = Date.now()
    victim?.child.kill('SIGKILL')
    if (victim !== undefined) await once(victim.child, 'exit')

    const statuses: number[] = []
    for (let i = 0; i < 30; i++) statuses.push((await fetch(`${front}/api/get-all`, { headers: { 'x-api-key': KEY } })).status)
    t.same(new Set(statuses), new Set([200]), 'no 5xx through Caddy after the kill')

    await receiver.arrival('/done')
    const resumedIn = Date.now() - killedAt
    t.ok(resumedIn < 45_000, `resumed on a surviving replica within 45 s (${resumedIn} ms)`)
    const final = await json(await fetch(`${front}/api/v1/executions/${id}`, { headers: auth }))
    for (let i = 0; i < 50 && final.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      Object.assign(final, await json(await fetch(`${front}/api/v1/executions/${id}`, { headers: auth })))
    }
    t.equal(final.status, 'completed')
    t.equal(receiver.to('/slow').length, 2, 'the interrupted node ran again (at-least-once)')
  })
})
