import path from 'node:path'
import { once } from 'node:events'
import tap from 'tap'
import { watch, type ExecutionReply, type LogLine } from '../helpers/executions.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, SECRETS_KEY } from '../helpers/flowrunner.js'
import { seedPglite } from '../helpers/pglite-template.js'
import { tempDir } from '../helpers/gateway.js'
import { startReceiver } from '../helpers/receiver.js'
import { startServer, type StartedServer } from '../helpers/spawn-server.js'

type Tap = Parameters<Parameters<typeof tap.test>[0]>[0]

async function api<T>(server: StartedServer, method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: res.status, json: (await res.json()) as T }
}

// PGlite: the embedded database is what a single server runs on, and the one whose files a kill -9 could
// leave half-written. One backend only: each boot of the child process costs seconds.
async function serverEnv(t: Tap, receiverPort: number, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = await tempDir(t, 'fr-crash-')
  await seedPglite(path.join(dir, 'data'))
  return {
    HOME: process.env.HOME ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATA_DIR: path.join(dir, 'data'),
    EVERCYCLE_BASE_URL: 'http://127.0.0.1:9',
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    GATEWAY_AUTH: 'none',
    SESSION_SECRET: 'crash-test-session-secret-0123456789abcdef',
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY,
    FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiverPort}`,
    FLOWRUNNER_POLL_MS: '200',
    // the tests share a loaded machine; load shedding is not what this is about
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...extra
  }
}

async function login(server: StartedServer): Promise<string> {
  const res = await api<{ token: string }>(server, 'POST', '/api/v1/auth/login', undefined, { username: ADMIN_EMAIL, password: ADMIN_PASSWORD })
  if (res.status !== 200) throw new Error(`login answered ${res.status}`)
  return res.json.token
}

/**
 * Watches the execution on the restarted server until it ends, checks it completed with the receiver's answer,
 * and returns the ids of the nodes its log says completed, in order.
 */
async function completedAfterRestart(t: Tap, server: StartedServer, id: string, token: string): Promise<Array<string | null>> {
  const after = await watch(server.url, id, token)
  await after.closed
  t.equal(after.messages.at(-1)?.type, 'execution_completed')
  const done = (await api<ExecutionReply>(server, 'GET', `/api/v1/executions/${id}`, token)).json
  t.equal(done.status, 'completed')
  t.match(done.result, { status_code: 200, body: { ok: true } })
  const logs = (await api<{ logs: LogLine[] }>(server, 'GET', `/api/v1/executions/${id}/logs?limit=100`, token)).json.logs
  t.equal(logs.filter((l) => l.message === 'Execution started').length, 1, 'started once')
  return logs.filter((l) => l.message === 'Node completed').map((l) => l.node_id)
}

void tap.test('kill -9 during a delay: after a restart the execution resumes from the delay and completes', async (t) => {
  const receiver = await startReceiver(t)
  receiver.on('/hook', { status: 200, body: { ok: true } })
  const env = await serverEnv(t, receiver.port)

  const first = await startServer(t, env)
  const token = await login(first)
  const flow = await api<{ id: string }>(first, 'POST', '/api/v1/flows', token, {
    definition: `
metadata: { name: survives a crash }
nodes:
  start:
    type: delay
    params: { duration: 2s }
    next: { default: hook }
  hook:
    type: webhook
    params: { url: "${receiver.url}/hook", body: { survived: "\${input.tag}" } }
`
  })
  t.equal(flow.status, 201)
  const run = await api<{ execution_id: string }>(first, 'POST', `/api/v1/flows/${flow.json.id}/run`, token, { input: { tag: 'kill -9' } })
  t.equal(run.status, 201)
  const id = run.json.execution_id

  // the delay has completed (committed with its deferred next step) once its node_completed is published, or,
  // for a socket that joined after that, once the current state names the webhook as the next node
  const live = await watch(first.url, id, token)
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (live.messages.some((m) => (m.type === 'node_completed' && m.node_id === 'start') || (m.type === 'execution_update' && m.node_id === 'hook'))) resolve()
    }
    live.socket.on('message', check)
    check()
  })
  first.child.kill('SIGKILL')
  await once(first.child, 'exit')
  t.equal(first.child.signalCode, 'SIGKILL')
  t.equal(receiver.to('/hook').length, 0, 'killed before the webhook')
  live.socket.terminate()

  const second = await startServer(t, env)
  await receiver.arrival('/hook')
  t.same(JSON.parse(receiver.to('/hook')[0]?.body ?? ''), { survived: 'kill -9' })

  // the webhook's answer arrives just after the receiver saw the request: the socket waits for the end
  t.same(
    await completedAfterRestart(t, second, id, await login(second)),
    ['start', 'hook'],
    'resumed from the last completed node: the delay did not run again'
  )
  t.equal(receiver.to('/hook').length, 1, 'the webhook was sent once')
  second.child.kill('SIGTERM')
  await once(second.child, 'exit')
})

// One job runs consecutive nodes (here `shape` and then `slow`); a worker that dies inside the second leaves a
// job claimed under the same id, which pg-boss hands out again once it expires (first node's timeout + 10 s).
void tap.test('kill -9 inside a job running several nodes: the retried job resumes at the node that was running', async (t) => {
  const receiver = await startReceiver(t)
  // the first call hangs until the server is killed; the retry after the restart is answered at once
  receiver.on('/slow', { status: 200, body: { ok: true }, delayMs: 60_000 })
  // The job's expiry is its first node's timeout + 10 s: `shape` sets a short one so the retry comes soon, yet
  // long enough (with the expression limit) that a machine loaded by parallel tests, whose expression threads
  // run at a lower priority, still finishes the transform: past it the flow failed there and /slow never came.
  const env = await serverEnv(t, receiver.port, { FLOWRUNNER_EXPRESSION_TIMEOUT: '10000' })

  const first = await startServer(t, env)
  const token = await login(first)
  const flow = await api<{ id: string }>(first, 'POST', '/api/v1/flows', token, {
    definition: `
metadata: { name: resumes inside a segment, start: shape }
nodes:
  shape:
    type: transform
    params: { expression: '{"tag": input.tag}' }
    timeout: 10s
    next: { default: slow }
  slow:
    type: http.request
    params: { url: "${receiver.url}/slow", method: POST, body: { tag: "\${nodes.shape.tag}" } }
    timeout: 3s
`
  })
  t.equal(flow.status, 201)
  const run = await api<{ execution_id: string }>(first, 'POST', `/api/v1/flows/${flow.json.id}/run`, token, { input: { tag: 'mid-segment' } })
  t.equal(run.status, 201)
  const id = run.json.execution_id
  await receiver.arrival('/slow')
  first.child.kill('SIGKILL')
  await once(first.child, 'exit')
  receiver.on('/slow', { status: 200, body: { ok: true } })

  const second = await startServer(t, env)
  t.same(
    await completedAfterRestart(t, second, id, await login(second)),
    ['shape', 'slow'],
    'the first node was saved before the second started, and did not run again'
  )
  t.same(
    receiver.to('/slow').map((r) => JSON.parse(r.body) as unknown),
    [{ tag: 'mid-segment' }, { tag: 'mid-segment' }],
    'the node that was running when the worker died ran again (at-least-once), with the saved result of the one before'
  )
  second.child.kill('SIGTERM')
  await once(second.child, 'exit')
})
