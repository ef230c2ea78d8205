import pg from 'pg'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { backendEnv, SECRETS_KEY, TEST_DATABASE_URL, type Tap } from '../helpers/flowrunner.js'
import { buildGateway, startSimulator } from '../helpers/gateway.js'

const USERS = { [DEMO_USERNAME]: DEMO_PASSWORD, 'alice@example.com': 'alice-pw-1' }

/** Two gateway replicas on one fresh PostgreSQL schema, as a cluster would run them. */
async function replicas(t: Tap, sim: Awaited<ReturnType<typeof startSimulator>>, n = 2) {
  const env: Record<string, string> = { ...(await backendEnv(t, 'postgres')), FLOWRUNNER_SECRETS_KEY: SECRETS_KEY, GATEWAY_AUTH: 'session', GATEWAY_API_KEYS: 'cluster-key-0123456789', SESSION_SECRET: 'cluster-session-secret-0123456789abcdef' }
  const apps = []
  for (let i = 0; i < n; i++) apps.push((await buildGateway(t, { sim, env })).app)
  return { apps, env }
}
const KEY = { 'x-api-key': 'cluster-key-0123456789' }

t.test('replicas share one token set: a refused token is renewed once for the whole cluster', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { apps, env } = await replicas(t, sim, 3)
  const [a, b, c] = apps
  if (a === undefined || b === undefined || c === undefined) throw new Error('replicas')
  t.equal((await a.inject({ method: 'GET', url: '/api/get-all', headers: KEY })).statusCode, 200)
  t.equal((await b.inject({ method: 'GET', url: '/api/get-all', headers: KEY })).statusCode, 200)
  t.equal(sim.counts.signIns, 1, 'replica B used the tokens replica A signed in with')

  sim.expireTokens()
  sim.reset()
  const replies = await Promise.all(
    Array.from({ length: 300 }, (_, i) => (apps[i % 3] ?? a).inject({ method: 'GET', url: '/api/get-all', headers: KEY }))
  )
  t.same(new Set(replies.map((r) => r.statusCode)), new Set([200]))
  t.equal(sim.counts.refreshes, 1, 'exactly one upstream refresh for three replicas and 300 calls')
  t.equal(sim.counts.signIns, 0)

  // tokens at rest are sealed: the raw row holds none of them
  const client = new pg.Client({ connectionString: env.DATABASE_URL })
  await client.connect()
  const { rows } = await client.query<{ identity: string; ciphertext: Buffer }>('SELECT identity, ciphertext FROM gateway_tokens')
  await client.end()
  t.same(rows.map((r) => r.identity), ['service'])
  const raw = rows.map((r) => r.ciphertext.toString('latin1')).join('')
  for (const token of sim.issued) t.notOk(raw.includes(token), 'no token in clear at rest')

  // a restarted replica uses the stored set: no sign-in
  const d = (await buildGateway(t, { sim, env })).app
  t.equal((await d.inject({ method: 'GET', url: '/api/get-all', headers: KEY })).statusCode, 200)
  t.equal(sim.counts.signIns, 0)
})

t.test('a session started on one replica works on the others; logout on one ends it everywhere', async (t) => {
  const sim = await startSimulator(t, { users: USERS })
  const { apps } = await replicas(t, sim, 3)
  const [a, b, c] = apps
  if (a === undefined || b === undefined || c === undefined) throw new Error('replicas')
  const login = await a.inject({ method: 'POST', url: '/api/auth', payload: { username: 'alice@example.com', password: 'alice-pw-1' } })
  t.equal(login.statusCode, 200)
  const cookie = `evercycle_session=${login.cookies.find((x) => x.name === 'evercycle_session')?.value}`
  for (const app of [b, c]) t.equal((await app.inject({ method: 'GET', url: '/api/get-all', headers: { cookie } })).statusCode, 200)
  t.same(sim.callsTo('GET', '/v1/asset').map((x) => x.user), ['alice@example.com', 'alice@example.com'])
  t.equal((await b.inject({ method: 'POST', url: '/api/logout', headers: { cookie } })).statusCode, 200)
  t.equal((await a.inject({ method: 'GET', url: '/api/get-all', headers: { cookie } })).statusCode, 401)
  t.equal((await c.inject({ method: 'GET', url: '/api/get-all', headers: { cookie } })).statusCode, 401)
})

t.test('the test database is reachable', async (t) => {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  t.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1)
  await client.end()
})

t.test('an execution running on one replica is watched and cancelled through another', async (t) => {
  const { buildFlowRunner } = await import('../helpers/flowrunner.js')
  const { createFlow, runFlow } = await import('../helpers/executions.js')
  const { startReceiver } = await import('../helpers/receiver.js')
  const receiver = await startReceiver(t)
  receiver.on('/slow', { hang: true }).on('/after', { status: 200, body: { ok: true } })
  const shared = { ...(await backendEnv(t, 'postgres')), FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` }
  const worker = await buildFlowRunner(t, { backend: 'postgres', env: shared })
  const api = await buildFlowRunner(t, { backend: 'postgres', env: { ...shared, FLOWRUNNER_WORKER: 'false' } })
  const token = await api.login('admin@example.com', 'admin-password-1')
  const flowId = await createFlow(api, token, `
metadata:
  name: slow
nodes:
  start:
    type: http.request
    params:
      url: ${receiver.url}/slow
      timeout: 60000
    timeout: 60000
    next:
      default: after
  after:
    type: webhook
    params:
      url: ${receiver.url}/after
`)
  const seen: string[] = []
  const cancelledOnWorker = new Promise<void>((resolve) => {
    const id = runFlow(api, token, flowId).then((executionId) => {
      api.app.executionEvents.subscribe(executionId, (e) => seen.push(e.type))
      worker.app.executionEvents.subscribe(executionId, (e) => {
        if (e.type === 'execution_cancelled') resolve()
      })
      return executionId
    })
    void id.then(async (executionId) => {
      await receiver.arrival('/slow')
      const res = await api.request('DELETE', `/api/v1/executions/${executionId}`, { token })
      t.equal(res.statusCode, 200)
      t.same(res.json(), { message: 'Execution cancelled successfully' })
    })
  })
  await cancelledOnWorker
  t.ok(seen.includes('execution_update'), `the API replica saw the worker's events: ${seen.join(',')}`)
  t.ok(seen.includes('log'))
  for (let i = 0; i < 100 && receiver.aborted === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(receiver.aborted, 1, 'the worker replica tore down its HTTP call')
  t.equal(receiver.to('/after').length, 0, 'nothing after the cancelled node ran')
})
