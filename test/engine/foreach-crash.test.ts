import { once } from 'node:events'
import path from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import tap from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME, type EvercycleSimulator } from '../../dev/simulator/simulator.js'
import { watch, type ExecutionReply, type LogLine } from '../helpers/executions.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, SECRETS_KEY, type Tap } from '../helpers/flowrunner.js'
import { startSimulator, tempDir } from '../helpers/gateway.js'
import { seedPglite } from '../helpers/pglite-template.js'
import { startServer, type StartedServer } from '../helpers/spawn-server.js'

const ITEMS = 200
const CONCURRENCY = 10

interface Child {
  id: string
  status: string
  parent_id: string | null
  item_index: number | null
}

interface Parent extends ExecutionReply {
  children?: { total: number; completed: number; failed: number; running: number; waiting: number; queued: number; cancelled: number }
}

async function api<T>(server: StartedServer, method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: res.status, json: (await res.json()) as T }
}

async function login(server: StartedServer): Promise<string> {
  const res = await api<{ token: string }>(server, 'POST', '/api/v1/auth/login', undefined, { username: ADMIN_EMAIL, password: ADMIN_PASSWORD })
  if (res.status !== 200) throw new Error(`login answered ${res.status}`)
  return res.json.token
}

// PGlite, as crash.test.ts: the embedded database a single server runs on. The simulator runs in this process,
// so its call log outlives the server's death.
async function serverEnv(t: Tap, sim: EvercycleSimulator): Promise<Record<string, string>> {
  const dir = await tempDir(t, 'fr-foreach-crash-')
  await seedPglite(path.join(dir, 'data'))
  return {
    HOME: process.env.HOME ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATA_DIR: path.join(dir, 'data'),
    EVERCYCLE_BASE_URL: sim.url,
    EVERCYCLE_USERNAME: DEMO_USERNAME,
    EVERCYCLE_PASSWORD: DEMO_PASSWORD,
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    GATEWAY_AUTH: 'none',
    SESSION_SECRET: 'crash-test-session-secret-0123456789abcdef',
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY,
    FLOWRUNNER_POLL_MS: '200',
    FLOWRUNNER_CONCURRENCY: String(CONCURRENCY + 2),
    FLOWRUNNER_ACCOUNT_CONCURRENCY: String(CONCURRENCY + 2),
    // a job claimed by the killed server is handed out again once it expires (the node timeout plus a margin):
    // a short node timeout keeps that, and this test, short; not too short: a fresh server's first calls sign in
    // to Evercycle and start the expression threads, on a loaded machine
    FLOWRUNNER_NODE_TIMEOUT: '3000',
    MAX_EVENT_LOOP_DELAY_MS: '0'
  }
}

/** Calls to `GET /v1/asset/crash-<i>`, counted per item index. */
function callsPerItem(sim: EvercycleSimulator): number[] {
  const counts = new Array<number>(ITEMS).fill(0)
  for (const call of sim.calls) {
    const m = /^\/v1\/asset\/crash-(\d+)$/.exec(call.path)
    if (call.method === 'GET' && m !== null) counts[Number(m[1])] = (counts[Number(m[1])] ?? 0) + 1
  }
  return counts
}

void tap.test('kill -9 in the middle of a 200-item foreach: after a restart every item completes exactly once', async (t) => {
  // each item's call takes a little while, so the fan-out is still going when the server dies
  const sim = await startSimulator(t, { latencyMs: 40 })
  for (let i = 0; i < ITEMS; i++) sim.assets.set(`crash-${i}`, { id: `crash-${i}`, name: `Item ${i}`, status: 'active' })
  const env = await serverEnv(t, sim)

  const first = await startServer(t, env)
  const token = await login(first)
  const item = await api<{ id: string }>(first, 'POST', '/api/v1/flows', token, {
    definition: `
metadata: { name: one item }
nodes:
  start:
    type: evercycle
    params: { operation: get-asset-id, params: { id: "\${input.id}" } }
`
  })
  t.equal(item.status, 201)
  const parent = await api<{ id: string }>(first, 'POST', '/api/v1/flows', token, {
    definition: `
metadata: { name: fan out }
nodes:
  start:
    type: foreach
    params:
      items: "\${input.items}"
      flow: "${item.json.id}"
      input: { id: "\${item}" }
      concurrency: ${CONCURRENCY}
`
  })
  t.equal(parent.status, 201)
  const items = Array.from({ length: ITEMS }, (_, i) => `crash-${i}`)
  const run = await api<{ execution_id: string }>(first, 'POST', `/api/v1/flows/${parent.json.id}/run`, token, { input: { items } })
  t.equal(run.status, 201)
  const id = run.json.execution_id

  const deadline = Date.now() + 60_000
  while (callsPerItem(sim).reduce((a, b) => a + b, 0) < 50) {
    if (Date.now() > deadline) throw new Error('the items never got going')
    await pause(5)
  }
  first.child.kill('SIGKILL')
  await once(first.child, 'exit')
  t.equal(first.child.signalCode, 'SIGKILL')
  const atKill = callsPerItem(sim).reduce((a, b) => a + b, 0)
  t.ok(atKill < ITEMS, `killed in the middle: ${atKill} of ${ITEMS} items had called upstream`)

  const began = Date.now()
  const second = await startServer(t, env)
  const token2 = await login(second)
  const live = await watch(second.url, id, token2)
  await live.closed
  t.comment(`restart to completion: ${Date.now() - began} ms`)
  t.equal(live.messages.at(-1)?.type, 'execution_completed')

  const done = (await api<Parent>(second, 'GET', `/api/v1/executions/${id}`, token2)).json
  t.equal(done.status, 'completed')
  const result = done.result as { total: number; completed: number; failed: number; cancelled: number; results?: Array<{ body?: { id?: string } } | null>; errors: unknown[] }
  t.match(result, { total: ITEMS, completed: ITEMS, failed: 0, cancelled: 0 })
  t.same(result.errors, [], 'no item failed')
  t.ok(
    items.every((assetId, i) => result.results?.[i]?.body?.id === assetId),
    "every item's result, in item order"
  )
  t.same(done.children, { total: ITEMS, completed: ITEMS, failed: 0, running: 0, waiting: 0, queued: 0, cancelled: 0 })

  const children: Child[] = []
  for (let offset = 0; offset < ITEMS * 2; offset += 100) {
    const page = (await api<{ executions: Child[]; total: number }>(second, 'GET', `/api/v1/executions?parent_id=${id}&limit=100&offset=${offset}`, token2)).json
    children.push(...page.executions)
    if (page.executions.length < 100) break
  }
  t.equal(children.length, ITEMS, 'one child per item')
  t.ok(children.every((c) => c.status === 'completed' && c.parent_id === id), 'each completed')
  t.same(
    children.map((c) => c.item_index).sort((a, b) => (a ?? 0) - (b ?? 0)),
    items.map((_, i) => i),
    'each item exactly once'
  )

  const calls = callsPerItem(sim)
  t.ok(calls.every((n) => n >= 1), 'every item called upstream')
  t.ok(calls.every((n) => n <= 2), `no item called more than twice (at most: ${Math.max(...calls)})`)
  const twice = calls.filter((n) => n === 2).length
  t.ok(twice <= CONCURRENCY, `only items in flight at the kill were called again (${twice} of them)`)

  const logs = (await api<{ logs: LogLine[] }>(second, 'GET', `/api/v1/executions/${id}/logs?limit=100`, token2)).json.logs
  t.equal(logs.filter((l) => l.message === 'Execution started').length, 1, 'the parent started once')
  second.child.kill('SIGTERM')
  await once(second.child, 'exit')
})
