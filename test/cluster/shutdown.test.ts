import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { createFlow, runFlow, waitFinal } from '../helpers/executions.js'
import { backendEnv, buildFlowRunner } from '../helpers/flowrunner.js'
import { startReceiver } from '../helpers/receiver.js'

t.test('shutdown closes WebSockets with 1001 and hands the running execution to another replica', async (t) => {
  const receiver = await startReceiver(t)
  receiver.on('/slow', { delayMs: 30_000 }, { status: 200, body: { ok: true } }).on('/done', { status: 200, body: {} })
  const shared = { ...(await backendEnv(t, 'postgres')), FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_POLL_MS: '200' }
  const leaving = await buildFlowRunner(t, { backend: 'postgres', env: shared })
  const token = leaving.admin.token
  const flowId = await createFlow(leaving, token, `
metadata:
  name: handover
nodes:
  start:
    type: http.request
    params:
      url: ${receiver.url}/slow
    timeout: 60s
    next:
      default: done
  done:
    type: webhook
    params:
      url: ${receiver.url}/done
`)
  const id = await runFlow(leaving, token, flowId)
  await receiver.arrival('/slow')

  await leaving.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (leaving.app.server.address() as AddressInfo).port
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/executions/${id}?token=${token}`)
  await new Promise((resolve) => socket.once('message', resolve))
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))

  await leaving.app.close()
  t.equal(await closed, 1001, 'subscribers are told to reconnect')
  t.equal(receiver.aborted, 1, 'the running node was aborted, not left to finish on a closing server')

  const staying = await buildFlowRunner(t, { backend: 'postgres', env: shared })
  const done = await waitFinal(staying, await staying.login('admin@example.com', 'admin-password-1'), id)
  t.equal(done.status, 'completed', 'another replica took the execution over')
  t.equal(receiver.to('/slow').length, 2)
  t.equal(receiver.to('/done').length, 1)
})
