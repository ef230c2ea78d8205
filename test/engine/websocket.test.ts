import tap from 'tap'
import type { ExecutionEvent } from '../../src/flows/engine/events.js'
import { createFlow, runFlow, runToEnd, SocketRefused, waitFinal, watch } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { startReceiver } from '../helpers/receiver.js'

/** A message without its timestamp, for comparing sequences. */
function shape(e: ExecutionEvent): unknown[] {
  if (e.type === 'log') return [e.type, e.message, e.node_id]
  if (e.type === 'execution_update') return [e.type, e.status, e.node_id]
  if (e.type === 'node_completed') return [e.type, e.node_id]
  return [e.type]
}

eachBackend('WebSocket: message order, late join, cancel, and who may subscribe', async (t, backend) => {
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` } })
  const address = await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const alice = await fr.createUser('alice')
  const bob = await fr.createUser('bob')

  // the first node waits on a gate the test opens once its socket is up
  let open: () => void = () => undefined
  receiver.on('/gate', { until: new Promise<void>((resolve) => (open = resolve)), body: { through: true } })
  const flowId = await createFlow(fr, alice.token, `
metadata: { name: watched }
nodes:
  start:
    type: http.request
    params: { url: "${receiver.url}/gate" }
    next: { default: shape }
  shape:
    type: transform
    params: { expression: '{"through": nodes.start.body.through}' }
`)
  const id = await runFlow(fr, alice.token, flowId)
  await receiver.arrival('/gate')

  await t.test('a live run: every event in order, then a normal close', async (t) => {
    const live = await watch(address, id, alice.token)
    open()
    t.same(await live.closed, { code: 1000, reason: 'execution finished' })
    t.same(live.messages.map(shape), [
      ['execution_update', 'running', 'start'],
      ['log', 'Node completed', 'start'],
      ['node_completed', 'start'],
      ['execution_update', 'running', 'shape'],
      ['log', 'Node started', 'shape'],
      ['log', 'Node completed', 'shape'],
      ['node_completed', 'shape'],
      ['log', 'Execution completed', 'shape'],
      ['execution_completed']
    ])
    t.match(live.messages[0], { node_type: 'http.request' }, 'the snapshot on joining names the running node and its type')
    t.match(live.messages[2], { type: 'node_completed', execution_id: id, node_id: 'start', node_type: 'http.request', result: { status_code: 200, body: { through: true } } })
    t.match(live.messages[3], { node_type: 'transform' })
    t.match(live.messages[5], { type: 'log', level: 'info', node_type: 'transform', data: { duration_ms: Number } })
    t.match(live.messages.at(-1), { type: 'execution_completed', execution_id: id, status: 'completed', result: { through: true } })
    for (const m of live.messages) t.ok(!Number.isNaN(Date.parse(m.timestamp)), `${m.type} has a timestamp`)
  })

  await t.test('a late joiner gets the nodes it missed, the current status, the final message, and a normal close', async (t) => {
    await waitFinal(fr, alice.token, id)
    const late = await watch(address, id, alice.token)
    t.same(await late.closed, { code: 1000, reason: 'execution finished' })
    const nodeOf = (e: ExecutionEvent): string => ('node_id' in e ? String(e.node_id) : '')
    const missed = late.messages.slice(0, 2).sort((a, b) => nodeOf(a).localeCompare(nodeOf(b)))
    t.same([...missed, ...late.messages.slice(2)].map(shape), [['node_completed', 'shape'], ['node_completed', 'start'], ['execution_update', 'completed', undefined], ['execution_completed']])
    t.match(missed[0], { execution_id: id, node_id: 'shape', node_type: 'transform', result: { through: true } }, 'each node done before it joined, with its result')
    t.match(missed[1], { execution_id: id, node_id: 'start', node_type: 'http.request', result: { status_code: 200, body: { through: true } } })
    t.match(late.messages[3], { execution_id: id, status: 'completed', result: { through: true } })

    const failed = await runToEnd(fr, alice.token, `
metadata: { name: fails }
nodes:
  start:
    type: http.request
    params: { url: "${receiver.url}/missing" }
`)
    const lateFailed = await watch(address, failed.id, alice.token)
    await lateFailed.closed
    t.same(lateFailed.messages.map(shape), [['execution_update', 'failed', undefined], ['execution_failed']])
    t.match(lateFailed.messages[1], { execution_id: failed.id, status: 'failed', error: 'HTTP request failed with status 404', node_id: 'start', node_type: 'http.request' })
  })

  await t.test('a cancelled run ends its sockets with execution_cancelled', async (t) => {
    receiver.on('/hold', { hang: true })
    const held = await runToEnd(fr, alice.token, `
metadata: { name: quick }
nodes:
  start:
    type: transform
    params: { expression: '1' }
`)
    t.equal(held.status, 'completed')
    const slowFlow = await createFlow(fr, alice.token, `
metadata: { name: held }
nodes:
  start:
    type: http.request
    params: { url: "${receiver.url}/hold" }
`)
    const slow = await runFlow(fr, alice.token, slowFlow)
    await receiver.arrival('/hold')
    const live = await watch(address, slow, alice.token, 'query')
    t.equal((await fr.request('DELETE', `/api/v1/executions/${slow}`, { token: alice.token })).statusCode, 200)
    t.same(await live.closed, { code: 1000, reason: 'execution finished' })
    t.same(live.messages.map(shape), [['execution_update', 'running', 'start'], ['log', 'Execution cancelled', undefined], ['execution_cancelled']])
    const late = await watch(address, slow, alice.token, 'protocol')
    await late.closed
    t.same(late.messages.map(shape), [['execution_update', 'cancelled', undefined], ['execution_cancelled']])
  })

  await t.test('browsers may send the token as ?token= or as the bearer subprotocol', async (t) => {
    const byQuery = await watch(address, id, alice.token, 'query')
    t.equal((await byQuery.closed).code, 1000)
    t.equal(byQuery.messages.at(-1)?.type, 'execution_completed')
    const byProtocol = await watch(address, id, alice.token, 'protocol')
    t.equal(byProtocol.socket.protocol, 'bearer', 'the server answers the bearer subprotocol')
    t.equal((await byProtocol.closed).code, 1000)
    t.equal(byProtocol.messages.at(-1)?.type, 'execution_completed')
    const admin = await watch(address, id, fr.admin.token)
    await admin.closed
    t.equal(admin.messages.at(-1)?.type, 'execution_completed', 'admins see all')
  })

  await t.test('refused before the upgrade: no token, a bad token, another user, an unknown execution', async (t) => {
    const refusal = async (token: string | undefined, execution: string, via: 'header' | 'query' | 'protocol' = 'header'): Promise<SocketRefused> => {
      try {
        const w = await watch(address, execution, token, via)
        w.socket.close()
      } catch (err) {
        if (err instanceof SocketRefused) return err
        throw err
      }
      throw new Error('the upgrade was accepted')
    }
    // the sockets of the tests above are closed; the server's side of them may still be finishing
    while (fr.app.executionEvents.subscriberCount() > 0) await new Promise((r) => setTimeout(r, 10))
    const none = await refusal(undefined, id)
    t.equal(none.status, 401)
    t.equal(JSON.parse(none.body).error.code, 'unauthorized')
    t.equal((await refusal('not-a-token', id)).status, 401)
    t.equal((await refusal('not-a-token', id, 'query')).status, 401)
    const other = await refusal(bob.token, id)
    t.equal(other.status, 404)
    t.equal(JSON.parse(other.body).error.code, 'not_found')
    t.equal((await refusal(bob.token, id, 'protocol')).status, 404)
    t.equal((await refusal(alice.token, 'exec-00000000-0000-0000-0000-000000000000')).status, 404)
    t.equal(fr.app.executionEvents.subscriberCount(), 0, 'a refused subscriber leaves no subscription behind')
  })
})

// One backend: the buffer bound is in the socket route, not in storage.
void tap.test('WebSocket: a subscriber that stops reading is closed (1013), and the engine does not wait for it', async (t) => {
  const receiver = await startReceiver(t)
  let open: () => void = () => undefined
  receiver.on('/gate', { until: new Promise<void>((resolve) => (open = resolve)), body: {} })
  const fr = await buildFlowRunner(t, { backend: 'postgres', env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` } })
  const address = await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const user = await fr.createUser('slow')
  // 24 results of 512 KiB: far more than the 1 MiB a subscriber may fall behind (plus the socket buffers)
  const flowId = await createFlow(fr, user.token, `
metadata: { name: big results }
nodes:
  start:
    type: http.request
    params: { url: "${receiver.url}/gate" }
    next: { default: big }
  big:
    type: transform
    params: { expression: '$pad("", 524288, "x")' }
    next: { default: count }
  count:
    type: transform
    params: { expression: '$exists(nodes.count) ? nodes.count + 1 : 1' }
    next: { default: check }
  check:
    type: condition
    params: { expression: 'nodes.count >= 24' }
    next: { "false": big }
`)
  const id = await runFlow(fr, user.token, flowId)
  await receiver.arrival('/gate')
  const stalled = await watch(address, id, user.token)
  stalled.socket.pause()
  open()
  const done = await waitFinal(fr, user.token, id)
  t.equal(done.status, 'completed', 'the run finished while its subscriber read nothing')
  stalled.socket.resume()
  const closed = await stalled.closed
  t.equal(closed.code, 1013)
  t.equal(closed.reason, 'subscriber too slow')
  t.notOk(stalled.messages.some((m) => m.type === 'execution_completed'), 'it was cut off before the end')
})
