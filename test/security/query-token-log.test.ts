import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { buildFlowRunner, type FlowRunner } from '../helpers/flowrunner.js'
import { LogCapture, type Teardown } from '../helpers/gateway.js'

/** A FlowRunner on a loopback port, its log captured, and the admin's token. */
async function listeningFlowRunner(t: Teardown): Promise<{ logs: LogCapture; fr: FlowRunner; port: number; token: string }> {
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend: 'pglite', logs })
  await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (fr.app.server.address() as AddressInfo).port
  return { logs, fr, port, token: fr.admin.token }
}

t.test('a token passed in the query string (browser WebSockets) never reaches the request log', async (t) => {
  const { logs, fr, port, token } = await listeningFlowRunner(t)
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/executions/exec-missing?token=${token}&x=1`)
  const status = await new Promise<number>((resolve) => socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))
  t.equal(status, 404)
  await fr.request('GET', `/api/v1/executions?token=${token}`, { token })
  // the query parser decodes the name, so an encoded one is the same parameter to the route
  const encoded = new WebSocket(`ws://127.0.0.1:${port}/ws/executions/exec-missing?%74oken=${token}`)
  t.equal(await new Promise<number>((resolve) => encoded.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))), 404)
  await fr.request('GET', `/api/v1/executions?x=1&Token=${token}`, { token })
  await fr.app.close()
  t.ok(logs.lines.some((l) => l.includes('/ws/executions/exec-missing')), 'the request was logged')
  t.notOk(logs.text.includes(token), 'the token is not in any log line')
  t.ok(logs.text.includes('token=[redacted]'), 'the parameter is shown as redacted')
})

t.test('a WebSocket upgrade to a route without a WebSocket handler does not log the token in its path', async (t) => {
  const { logs, fr, port, token } = await listeningFlowRunner(t)
  // GET /api/v1/executions is plain HTTP: once authenticated, @fastify/websocket accepts the upgrade, logs the
  // path and closes the socket
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/executions?token=${token}`, { headers: { authorization: `Bearer ${token}` } })
  const closed = await new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)))
  t.type(closed, 'number', 'the server closed the socket')
  await fr.app.close()
  t.ok(logs.lines.some((l) => l.includes('no websocket handler')), 'the refusal was logged')
  t.notOk(logs.text.includes(token), 'the token is not in any log line')
  t.ok(logs.lines.some((l) => l.includes('no websocket handler') && l.includes('token=[redacted]')), 'the path shows the parameter as redacted')
})

t.test("FlowRunner's REST API and the gateway answer an upgrade request as the plain HTTP request it also is", async (t) => {
  const { fr, port, token } = await listeningFlowRunner(t)
  for (const path of ['/api/v1/flows', `/api/v1/accounts/${fr.admin.id}/secrets`, '/api/v1/accounts', '/api/health']) {
    const plain = await fr.request('GET', path, { token })
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } })
    const status = await new Promise<number>((resolve, reject) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      socket.on('open', () => reject(new Error(`${path} accepted the upgrade`)))
      socket.on('error', reject)
    })
    t.equal(status, plain.statusCode, `${path}: answered ${plain.statusCode} over HTTP, not switched`)
    t.not(status, 101)
  }
  await fr.app.close()
})

t.test("an inbound webhook's id, its credential, never reaches the request log", async (t) => {
  const { logs, fr, token } = await listeningFlowRunner(t)
  const created = await fr.request('POST', '/api/v1/flows', {
    token,
    body: { definition: 'metadata:\n  name: hooked\nnodes:\n  start:\n    type: transform\n    params:\n      expression: "1"\ntriggers:\n  - id: intake\n    type: webhook\n' }
  })
  const flowId = (created.json() as { id: string }).id
  const listed = await fr.request('GET', `/api/v1/flows/${flowId}/triggers`, { token })
  const url = (listed.json() as { triggers: Array<{ url: string }> }).triggers[0]?.url ?? ''
  const hookId = url.split('/').pop() ?? ''
  t.match(hookId, /^hook_.{32}$/)
  t.equal((await fr.app.inject({ method: 'POST', url, payload: {} })).statusCode, 202)
  t.equal((await fr.app.inject({ method: 'POST', url: `${url}x?source=a`, payload: {} })).statusCode, 404)
  await fr.app.close()
  t.ok(logs.lines.some((l) => l.includes('/api/v1/hooks/hook_')), 'the requests were logged')
  t.notOk(logs.text.includes(hookId.slice(5, 20)), 'no log line holds the hook id')
  t.ok(logs.text.includes(`/api/v1/hooks/${hookId.slice(0, 9)}[redacted]`), 'a prefix identifies it')
})
