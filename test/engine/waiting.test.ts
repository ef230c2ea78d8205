import { setTimeout as pause } from 'node:timers/promises'
import type { ExecutionEvent } from '../../src/flows/engine/events.js'
import { createFlow, EventRecorder, getExecution, logsOf, runFlow, waitFinal, watch, type ExecutionReply, type LogLine, type Watch } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend, type FlowRunner } from '../helpers/flowrunner.js'
import { startReceiver } from '../helpers/receiver.js'

interface WithChildren extends ExecutionReply {
  children?: { total: number; completed: number; failed: number; running: number; waiting: number; queued: number; cancelled: number }
}

const FINAL = ['completed', 'failed', 'cancelled']

/** Polls the execution until `ok` holds; fails with the last state seen after `ms`, or once it has ended without. */
async function untilExecution(fr: FlowRunner, token: string, id: string, ok: (e: WithChildren) => boolean, ms = 10_000): Promise<WithChildren> {
  const deadline = Date.now() + ms
  for (;;) {
    const e = (await getExecution(fr, token, id)) as WithChildren
    if (ok(e)) return e
    if (FINAL.includes(e.status)) throw new Error(`execution ${id} ended before the state awaited: ${JSON.stringify(e)}`)
    if (Date.now() > deadline) throw new Error(`gave up waiting on execution ${id}; last seen: ${JSON.stringify(e)}`)
    await pause(20)
  }
}

async function listedAs(fr: FlowRunner, token: string, status: string): Promise<string[]> {
  const res = await fr.request('GET', `/api/v1/executions?status=${status}&limit=100`, { token })
  if (res.statusCode !== 200) throw new Error(`listing answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { executions: Array<{ id: string }> }).executions.map((e) => e.id)
}

/** The first frame of a subscription: the execution's state when the socket joined. */
function firstMessage(w: Watch): Promise<ExecutionEvent> {
  const [first] = w.messages
  if (first !== undefined) return Promise.resolve(first)
  return new Promise((resolve) => w.socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')) as ExecutionEvent)))
}

function line(logs: LogLine[], message: string, nodeId: string | null): LogLine | undefined {
  return logs.find((l) => l.message === message && l.node_id === nodeId)
}

function at(l: { timestamp: string } | undefined): number {
  return Date.parse(l?.timestamp ?? '')
}

/** A log line's (or a log event's) duration_ms. */
function durationOf(l: object | undefined): number | undefined {
  const data = l !== undefined && 'data' in l ? l.data : undefined
  return (data as { duration_ms?: number } | undefined)?.duration_ms
}

/** The delay's completion, as its log line or its node_completed event. */
function isCompletion(e: ExecutionEvent, nodeId: string): boolean {
  return (e.type === 'node_completed' && e.node_id === nodeId) || (e.type === 'log' && e.message === 'Node completed' && e.node_id === nodeId)
}

// Issue 20: a delay really waits, without a worker, and says so: status `waiting`, the node it waits in, its
// completion after the wait. Also the other waits: a retry back-off, a parent waiting on its child.
eachBackend('waiting: delays, retry back-offs and sub-flows show as waiting', async (t, backend) => {
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_POLL_MS: '100' } })
  const events = new EventRecorder(fr)
  const address = await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const user = await fr.createUser('waiting')
  const token = user.token

  await t.test('a delay: waiting in the delay node, completed after the wait with its real duration', async (t) => {
    const flowId = await createFlow(fr, token, `
metadata: { name: waits in the middle }
nodes:
  start:
    type: transform
    params: { expression: '{"tag": input.tag}' }
    next: { default: pause }
  pause:
    type: delay
    params: { duration: 1500ms }
    next: { default: after }
  after:
    type: transform
    params: { expression: '{"tag": nodes.start.tag, "waited": nodes.pause.delayed_ms}' }
`)
    const id = await runFlow(fr, token, flowId, { tag: 'w' })
    const waiting = await untilExecution(fr, token, id, (e) => e.status === 'waiting')
    t.equal(waiting.status, 'waiting')
    t.notOk(events.events(id).some((e) => isCompletion(e, 'pause')), 'the delay has not completed while its execution waits')
    t.ok((await listedAs(fr, token, 'waiting')).includes(id), 'GET /executions?status=waiting lists it')
    t.notOk((await listedAs(fr, token, 'running')).includes(id), 'and status=running does not')

    const live = await watch(address, id, token)
    t.same(await live.closed, { code: 1000, reason: 'execution finished' })
    t.match(live.messages[0], { type: 'node_completed', node_id: 'start' }, 'on joining: the node already done')
    t.match(live.messages[1], { type: 'execution_update', status: 'waiting', node_id: 'pause', node_type: 'delay' }, 'then the state, naming the delay node')
    const logged = live.messages.findIndex((m) => m.type === 'log' && m.message === 'Node completed' && m.node_id === 'pause')
    const completed = live.messages.findIndex((m) => m.type === 'node_completed' && m.node_id === 'pause')
    t.ok(logged > 0 && completed > logged, 'the delay completes after the socket joined: its log line, then node_completed')
    t.ok((durationOf(live.messages[logged]) ?? 0) >= 1500, `duration_ms ${durationOf(live.messages[logged])} is the real wait`)
    t.match(live.messages[completed], { result: { delayed_ms: 1500 } })
    t.ok(live.messages.findIndex((m) => m.type === 'log' && m.message === 'Node started' && m.node_id === 'after') > completed, 'the next node starts after')
    t.match(live.messages.at(-1), { type: 'execution_completed', result: { tag: 'w', waited: 1500 } })

    const done = await waitFinal(fr, token, id)
    t.ok((done.duration ?? 0) >= 1500, `the execution lasted ${done.duration} ms`)
    const logs = await logsOf(fr, token, id)
    const started = line(logs, 'Node started', 'pause')
    const ended = line(logs, 'Node completed', 'pause')
    t.ok((durationOf(ended) ?? 0) >= 1500, 'the log line has the real duration')
    // log timestamps are kept to the millisecond
    t.ok(at(ended) - at(started) >= 1499, `"Node completed" is stamped after the wait (${at(ended) - at(started)} ms after "Node started")`)
    t.ok(at(line(logs, 'Node started', 'after')) >= at(ended))
    t.ok(at(events.events(id).find((e) => e.type === 'node_completed' && e.node_id === 'pause')) - at(started) >= 1499, 'so is the node_completed event')
  })

  await t.test('a delay as the last node: the execution waits before it completes', async (t) => {
    const flowId = await createFlow(fr, token, `
metadata: { name: waits at the end }
nodes:
  start:
    type: transform
    params: { expression: '"first"' }
    next: { default: pause }
  pause:
    type: delay
    params: { duration: 800 }
`)
    const id = await runFlow(fr, token, flowId)
    const waiting = await untilExecution(fr, token, id, (e) => e.status !== 'queued' && e.status !== 'running')
    t.equal(waiting.status, 'waiting', 'waiting, not completed, once the delay started')
    const done = await waitFinal(fr, token, id)
    t.equal(done.status, 'completed')
    t.same(done.result, { delayed_ms: 800 })
    const logs = await logsOf(fr, token, id)
    const started = at(line(logs, 'Node started', 'pause'))
    t.ok(at(line(logs, 'Execution completed', 'pause')) - started >= 799, 'completed after the wait')
    t.ok(Date.parse(done.completed_at ?? '') - started >= 799, `completed_at is ${Date.parse(done.completed_at ?? '') - started} ms after the delay started`)
    t.ok((durationOf(line(logs, 'Node completed', 'pause')) ?? 0) >= 800)
  })

  await t.test('cancel cuts a wait short', async (t) => {
    receiver.on('/never', { body: {} })
    const flowId = await createFlow(fr, token, `
metadata: { name: waits long }
nodes:
  pause:
    type: delay
    params: { duration: 10m }
    next: { default: call }
  call:
    type: webhook
    params: { url: "${receiver.url}/never", body: {} }
`)
    const id = await runFlow(fr, token, flowId)
    await untilExecution(fr, token, id, (e) => e.status === 'waiting')
    const live = await watch(address, id, token)
    const res = await fr.request('DELETE', `/api/v1/executions/${id}`, { token })
    t.equal(res.statusCode, 200)
    t.same(await live.closed, { code: 1000, reason: 'execution finished' })
    t.equal(live.messages.at(-1)?.type, 'execution_cancelled')
    const done = await waitFinal(fr, token, id)
    t.equal(done.status, 'cancelled')
    t.ok((done.duration ?? Infinity) < 60_000, `ended ${done.duration} ms after it started, not after 10 minutes`)
    t.notOk(events.events(id).some((e) => isCompletion(e, 'pause')), 'the delay never completed')
    const logs = await logsOf(fr, token, id)
    t.notOk(logs.some((l) => l.node_id === 'call'))
    t.equal(receiver.to('/never').length, 0)
    t.notOk((await listedAs(fr, token, 'waiting')).includes(id))
  })

  await t.test('a retry back-off is a wait too', async (t) => {
    receiver.on('/flaky', { status: 503, body: { message: 'busy' } }, { status: 200, body: { ok: true } })
    const flowId = await createFlow(fr, token, `
metadata: { name: retries }
nodes:
  call:
    type: http.request
    params: { url: "${receiver.url}/flaky" }
    retry: { max_attempts: 2, backoff_ms: 1500 }
`)
    const id = await runFlow(fr, token, flowId)
    await receiver.arrival('/flaky')
    await untilExecution(fr, token, id, (e) => e.status === 'waiting')
    t.equal(receiver.to('/flaky').length, 1, 'waiting after the first attempt')
    t.ok((await listedAs(fr, token, 'waiting')).includes(id))
    const live = await watch(address, id, token)
    await live.closed
    t.match(live.messages[0], { type: 'execution_update', status: 'waiting', node_id: 'call' }, 'the state names the node it will retry')
    const done = await waitFinal(fr, token, id)
    t.equal(done.status, 'completed')
    t.match(done.result, { status_code: 200, body: { ok: true } })
    t.equal(receiver.to('/flaky').length, 2)
  })

  // the child's delay first, or after another node (then it starts waiting in the middle of its first job)
  for (const [label, before] of [
    ['its first node', ''],
    ['after another node', `
  first:
    type: transform
    params: { expression: '"first"' }
    next: { default: pause }`]
  ] as const) {
    await t.test(`a parent waits on its sub-flow, which waits in a delay (${label})`, async (t) => {
      const child = await createFlow(fr, token, `
metadata: { name: slow child, start: ${before === '' ? 'pause' : 'first'} }
nodes:${before}
  pause:
    type: delay
    params: { duration: 1500ms }
`)
      const parent = await createFlow(fr, token, `
metadata: { name: parent }
nodes:
  sub:
    type: flow
    params: { flow: "${child}" }
`)
      const id = await runFlow(fr, token, parent)
      const waiting = await untilExecution(fr, token, id, (e) => e.status === 'waiting' && e.children?.waiting === 1)
      t.match(waiting.children, { total: 1, waiting: 1, running: 0, queued: 0, completed: 0 }, 'parent and child both wait')
      const live = await watch(address, id, token)
      t.match(await firstMessage(live), { type: 'execution_update', status: 'waiting', node_id: 'sub', node_type: 'flow' })
      live.socket.close()
      const done = await waitFinal(fr, token, id)
      t.equal(done.status, 'completed')
      t.same(done.result, { delayed_ms: 1500 }, "the child's result")
    })
  }
})
