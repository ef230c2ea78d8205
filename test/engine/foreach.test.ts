import { setTimeout as pause } from 'node:timers/promises'
import type { EvercycleSimulator } from '../../dev/simulator/simulator.js'
import { createFlow, getExecution, logsOf, runFlow, waitFinal, type ExecutionReply } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend, type FlowRunner } from '../helpers/flowrunner.js'
import { startSimulator } from '../helpers/gateway.js'

/** What a child's parent reports about them (GET /executions/:id). */
interface ChildCounts {
  total: number
  completed: number
  failed: number
  running: number
  waiting: number
  queued: number
  cancelled: number
}

/** GET /executions/:id with the bulk-work fields. */
interface BulkExecution extends ExecutionReply {
  parent_id: string | null
  item_index: number | null
  rerun_of: string | null
  children?: ChildCounts
}

interface ItemError {
  index: number
  execution_id: string
  status: string
  error: string | null
}

/** A `foreach` node's result. */
interface ForeachResult {
  total: number
  completed: number
  failed: number
  cancelled: number
  results?: unknown[]
  results_omitted?: boolean
  errors: ItemError[]
}

interface ListPage {
  executions: BulkExecution[]
  total: number
  limit: number
  offset: number
}

const LIVE = ['queued', 'running', 'waiting']

async function execution(fr: FlowRunner, token: string, id: string): Promise<BulkExecution> {
  return (await getExecution(fr, token, id)) as BulkExecution
}

async function finished(fr: FlowRunner, token: string, id: string): Promise<BulkExecution> {
  return (await waitFinal(fr, token, id)) as BulkExecution
}

/** Polls `read` until `ok` holds; fails with the last value seen once `ms` have passed. */
async function until<T>(what: string, read: () => T | Promise<T>, ok: (value: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last seen: ${JSON.stringify(value).slice(0, 1000)}`)
    await pause(20)
  }
}

/** Every child of an execution (the listing pages by 100), optionally of one status. */
async function childrenOf(fr: FlowRunner, token: string, id: string, status?: string): Promise<{ total: number; executions: BulkExecution[] }> {
  const executions: BulkExecution[] = []
  let total = 0
  for (let offset = 0; ; offset += 100) {
    const res = await fr.request('GET', `/api/v1/executions?parent_id=${id}${status === undefined ? '' : `&status=${status}`}&limit=100&offset=${offset}`, { token })
    if (res.statusCode !== 200) throw new Error(`children listing answered ${res.statusCode}: ${res.body}`)
    const page = res.json() as ListPage
    total = page.total
    executions.push(...page.executions)
    if (page.executions.length === 0 || executions.length >= total) return { total, executions }
  }
}

/**
 * Resolves once no queue job of these executions is waiting, deferred or running: nothing more of them can run.
 * Fails naming the jobs left, and their executions' status, if that takes longer than `ms`.
 */
async function allJobsSettled(fr: FlowRunner, ids: string[], ms = 15_000): Promise<void> {
  const schema = fr.app.config.flowRunner.queueSchema
  const left = (): Promise<Array<Record<string, unknown>>> =>
    fr.sql(
      `SELECT j.state, j.start_after, j.started_on, j.data, e.status AS execution_status
         FROM ${schema}.job j LEFT JOIN executions e ON e.id = j.data->>'executionId'
        WHERE j.data->>'executionId' = ANY($1) AND j.state < 'completed'`,
      [ids]
    )
  await until('the jobs of these executions to settle', left, (jobs) => jobs.length === 0, ms)
}

function addAsset(sim: EvercycleSimulator, id: string): void {
  sim.assets.set(id, { id, name: `Asset ${id}`, status: 'active' })
}

/** Calls to `GET /v1/asset/<prefix>...` made since `from` (an index into the call log), counted per asset id. */
function callsPerAsset(sim: EvercycleSimulator, prefix: string, from = 0): Map<string, number> {
  const counts = new Map<string, number>()
  for (const call of sim.calls.slice(from)) {
    if (call.method !== 'GET' || !call.path.startsWith(`/v1/asset/${prefix}`)) continue
    const id = call.path.slice('/v1/asset/'.length)
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

function sum(counts: Map<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0)
}

/** One upstream call per item: the asset named by the child's input, whose answer is the child's result. */
const ITEM_FLOW = `
metadata: { name: one item }
nodes:
  start:
    type: evercycle
    params: { operation: get-asset-id, params: { id: "\${input.id}" } }
`

function fanOut(flowId: string, options: string): string {
  return `
metadata: { name: fan out }
nodes:
  start:
    type: foreach
    params:
      items: "\${input.items}"
      flow: "${flowId}"
      input: { id: "\${item}", position: "\${index}" }
      ${options}
`
}

// Issue 20, bulk work: `foreach` and `flow` nodes run child executions against the simulator, one upstream
// call per item so its call log tells which items ran and how often.
eachBackend('foreach and flow nodes: fan-out, item failures, re-runs, cancel, recursion, ?wait', async (t, backend) => {
  const sim = await startSimulator(t)
  const fr = await buildFlowRunner(t, {
    backend,
    sim,
    env: { FLOWRUNNER_CONCURRENCY: '24', FLOWRUNNER_ACCOUNT_CONCURRENCY: '24', FLOWRUNNER_POLL_MS: '100' }
  })
  const user = await fr.createUser('bulk')
  const token = user.token
  const itemFlow = await createFlow(fr, token, ITEM_FLOW)

  await t.test('1,000 items at concurrency 20, every 10th fails; the re-run runs only those 100', async (t) => {
    const ids = Array.from({ length: 1000 }, (_, i) => `big-${i}`)
    const failing = ids.filter((_, i) => i % 10 === 9)
    for (const [i, id] of ids.entries()) if (i % 10 !== 9) addAsset(sim, id)
    const parentFlow = await createFlow(fr, token, fanOut(itemFlow, 'concurrency: 20'))
    const mark = sim.calls.length

    const began = Date.now()
    const id = await runFlow(fr, token, parentFlow, { items: ids })
    const done = await finished(fr, token, id)
    t.comment(`[${backend}] 1,000 items: ${Date.now() - began} ms`)
    t.equal(done.status, 'completed', 'item failures do not fail the node (on_item_error: continue)')
    t.equal(done.parent_id, null)
    t.equal(done.item_index, null)
    t.equal(done.rerun_of, null)
    const result = done.result as ForeachResult
    t.match(result, { total: 1000, completed: 900, failed: 100, cancelled: 0 })
    t.equal(result.results?.length, 1000, 'one result per item')
    t.ok(
      ids.every((assetId, i) => {
        const r = result.results?.[i] as { status_code?: number; body?: { id?: string } } | null
        return i % 10 === 9 ? r === null : r?.status_code === 200 && r.body?.id === assetId
      }),
      "in item order: each completed item's child result, null for a failed one"
    )
    t.same(
      result.errors.map((e) => e.index),
      failing.map((_, k) => k * 10 + 9),
      'errors name the failed items'
    )
    t.ok(result.errors.every((e) => e.status === 'failed' && typeof e.execution_id === 'string' && /404/.test(e.error ?? '')), 'each with its child and its error')
    t.same(done.children, { total: 1000, completed: 900, failed: 100, running: 0, waiting: 0, queued: 0, cancelled: 0 }, 'the children counts agree')

    const failedChildren = await childrenOf(fr, token, id, 'failed')
    t.equal(failedChildren.total, 100, 'the listing by parent_id and status=failed')
    t.same(
      failedChildren.executions.map((e) => e.item_index).sort((a, b) => (a ?? 0) - (b ?? 0)),
      result.errors.map((e) => e.index)
    )
    t.ok(failedChildren.executions.every((e) => e.parent_id === id && e.status === 'failed' && e.flow_id === itemFlow))
    t.same(new Set(failedChildren.executions.map((e) => e.id)), new Set(result.errors.map((e) => e.execution_id)))
    const firstPage = (await fr.request('GET', `/api/v1/executions?parent_id=${id}&limit=100`, { token })).json() as ListPage
    t.equal(firstPage.total, 1000, 'all the children')
    t.equal(firstPage.executions.length, 100)
    const child = await execution(fr, token, failedChildren.executions[0]?.id ?? '')
    t.equal(child.parent_id, id)
    t.same(child.input, { id: ids[child.item_index ?? -1], position: child.item_index }, "the child's input: its item and position")
    t.notOk('children' in child, 'an execution without children has no children counts')

    const first = callsPerAsset(sim, 'big-', mark)
    t.equal(first.size, 1000, 'every item called upstream')
    t.ok([...first.values()].every((n) => n === 1), 'once')

    // the failed items now exist upstream: the same input succeeds
    for (const assetId of failing) addAsset(sim, assetId)
    const beforeRerun = sim.calls.length
    const res = await fr.request('POST', `/api/v1/executions/${id}/rerun`, { token, body: {} })
    t.equal(res.statusCode, 201)
    t.match(res.json(), { execution_id: String, flow_id: parentFlow, status: String, created_at: String })
    const rerunId = (res.json() as { execution_id: string }).execution_id
    t.not(rerunId, id, 'a new execution')
    const rerunBegan = Date.now()
    const again = await finished(fr, token, rerunId)
    t.comment(`[${backend}] re-run of 100 failed items: ${Date.now() - rerunBegan} ms`)
    t.equal(again.status, 'completed')
    t.equal(again.rerun_of, id)
    const rerunResult = again.result as ForeachResult
    t.match(rerunResult, { total: 1000, completed: 1000, failed: 0, cancelled: 0 }, 'the new node counts every item')
    t.same(rerunResult.errors, [])
    t.ok(
      ids.every((assetId, i) => (rerunResult.results?.[i] as { body?: { id?: string } } | undefined)?.body?.id === assetId),
      "completed items' results are reused, the re-run ones are new"
    )
    const since = sim.calls.slice(beforeRerun)
    t.equal(since.length, 100, 'exactly 100 more upstream calls, nothing else called again')
    t.same(
      since.map((c) => `${c.method} ${c.path}`).sort(),
      failing.map((assetId) => `GET /v1/asset/${assetId}`).sort(),
      'one per failed item'
    )
    t.equal((await childrenOf(fr, token, rerunId, 'failed')).total, 0)
    t.match((await execution(fr, token, id)).result, { completed: 900, failed: 100 }, 'the original is unchanged')
  })

  await t.test('on_item_error: fail stops at the first failure and cancels the rest', async (t) => {
    const ids = Array.from({ length: 30 }, (_, i) => `stop-${i}`)
    for (const [i, id] of ids.entries()) if (i !== 3) addAsset(sim, id)
    sim.settings.latencyMs = 40
    t.teardown(() => {
      sim.settings.latencyMs = 0
    })
    const parentFlow = await createFlow(fr, token, fanOut(itemFlow, 'concurrency: 2\n      on_item_error: fail'))
    const mark = sim.calls.length
    const id = await runFlow(fr, token, parentFlow, { items: ids })
    const done = await finished(fr, token, id)
    t.equal(done.status, 'failed', 'the node failed, and with no error edge the execution')
    t.equal(done.node_id, 'start')
    const counts = done.children
    t.match(counts, { total: 30, failed: 1, running: 0, waiting: 0, queued: 0 })
    t.ok((counts?.cancelled ?? 0) > 0, `the remaining items were cancelled (${counts?.cancelled})`)
    t.equal((counts?.completed ?? 0) + (counts?.failed ?? 0) + (counts?.cancelled ?? 0), 30)
    const failed = await childrenOf(fr, token, id, 'failed')
    t.same(failed.executions.map((e) => e.item_index), [3])

    const all = await childrenOf(fr, token, id)
    t.equal(all.executions.length, 30)
    t.notOk(all.executions.some((e) => LIVE.includes(e.status)), 'no child left live')
    await allJobsSettled(fr, all.executions.map((e) => e.id))
    const calls = sum(callsPerAsset(sim, 'stop-', mark))
    const ran = (counts?.completed ?? 0) + 1
    t.ok(calls < 30, `the cancelled items never called upstream (${calls} calls)`)
    t.ok(calls >= ran && calls <= ran + 2, `${calls} calls for ${ran} items that ran (plus at most the 2 in flight when cancelled)`)
  })

  await t.test("flow node: the child's result is the node's; a failing child takes the error edge", async (t) => {
    addAsset(sim, 'sub-1')
    const parentFlow = await createFlow(fr, token, `
metadata: { name: calls a sub-flow }
nodes:
  start:
    type: flow
    params: { flow: "${itemFlow}", input: { id: "\${input.asset}" } }
    next: { default: shape, error: recover }
  shape:
    type: transform
    params: { expression: '{"name": nodes.start.body.name, "status": nodes.start.status_code}' }
  recover:
    type: transform
    params: { expression: '{"caught": nodes.start.error}' }
`)
    const ok = await finished(fr, token, await runFlow(fr, token, parentFlow, { asset: 'sub-1' }))
    t.equal(ok.status, 'completed')
    t.same(ok.result, { name: 'Asset sub-1', status: 200 })
    t.match(ok.children, { total: 1, completed: 1, failed: 0, running: 0, waiting: 0, queued: 0, cancelled: 0 })
    const [child] = (await childrenOf(fr, token, ok.id)).executions
    t.equal(child?.parent_id, ok.id)
    t.equal(child?.flow_id, itemFlow)
    const childDetail = await execution(fr, token, child?.id ?? '')
    t.equal(childDetail.status, 'completed')
    t.same(childDetail.input, { id: 'sub-1' }, 'its input resolved against the parent')
    t.match(childDetail.result, { status_code: 200, body: { id: 'sub-1' } })
    const okLogs = await logsOf(fr, token, ok.id)
    t.same(okLogs.filter((l) => l.message === 'Node started').map((l) => l.node_id), ['start', 'shape'])

    const caught = await finished(fr, token, await runFlow(fr, token, parentFlow, { asset: 'sub-missing' }))
    t.equal(caught.status, 'completed', 'the error edge ran')
    const why = (caught.result as { caught?: unknown }).caught
    t.ok(typeof why === 'string' && why.length > 0, `the node failed with the child's failure: ${String(why)}`)
    t.match(caught.children, { total: 1, completed: 0, failed: 1 })
    const caughtLogs = await logsOf(fr, token, caught.id)
    t.same(caughtLogs.filter((l) => l.message === 'Node started').map((l) => l.node_id), ['start', 'recover'])
  })

  await t.test('children of several nodes: the parent waits for their last node', async (t) => {
    for (const assetId of ['multi-0', 'multi-1', 'multi-2']) addAsset(sim, assetId)
    // the child's nodes run one after the other in the same job: only the last one ends it
    const twoSteps = await createFlow(fr, token, `
metadata: { name: two steps }
nodes:
  pick:
    type: transform
    params: { expression: '{"id": input.id}' }
    next: { default: fetch }
  fetch:
    type: evercycle
    params: { operation: get-asset-id, params: { id: "\${nodes.pick.id}" } }
`)
    const viaFlow = await createFlow(fr, token, `
metadata: { name: one sub-flow }
nodes:
  start:
    type: flow
    params: { flow: "${twoSteps}", input: { id: "\${input.asset}" } }
`)
    const one = await finished(fr, token, await runFlow(fr, token, viaFlow, { asset: 'multi-0' }))
    t.equal(one.status, 'completed', `flow node: ${one.error ?? 'no error'}`)
    t.match(one.result, { status_code: 200, body: { id: 'multi-0' } }, "the child's last node's result")

    const viaForeach = await createFlow(fr, token, fanOut(twoSteps, 'concurrency: 2'))
    const many = await finished(fr, token, await runFlow(fr, token, viaForeach, { items: ['multi-0', 'multi-1', 'multi-2'] }))
    t.equal(many.status, 'completed')
    const result = many.result as ForeachResult
    t.match(result, { total: 3, completed: 3, failed: 0, cancelled: 0 })
    t.same(result.errors.map((e) => e.error), [], 'no item failed')
    t.same(
      result.results?.map((r) => (r as { body?: { id?: string } } | null)?.body?.id),
      ['multi-0', 'multi-1', 'multi-2']
    )
  })

  await t.test('recursion: a flow naming itself is refused at save; indirect recursion stops at depth 5', async (t) => {
    const self = await createFlow(fr, token, `
metadata: { name: self }
nodes:
  start:
    type: transform
    params: { expression: '1' }
`)
    for (const [kind, params] of [
      ['flow', `{ flow: "${self}" }`],
      ['foreach', `{ items: "\${input.items}", flow: "${self}" }`]
    ] as const) {
      const res = await fr.request('PUT', `/api/v1/flows/${self}`, {
        token,
        body: { definition: `\nmetadata: { name: self }\nnodes:\n  start:\n    type: ${kind}\n    params: ${params}\n` }
      })
      t.equal(res.statusCode, 422, `a ${kind} node naming its own flow`)
      t.equal(res.json().error?.code, 'validation_error')
    }

    const a = await createFlow(fr, token, `
metadata: { name: ping }
nodes:
  start:
    type: transform
    params: { expression: '"placeholder"' }
`)
    const b = await createFlow(fr, token, `
metadata: { name: pong }
nodes:
  start:
    type: flow
    params: { flow: "${a}" }
`)
    const update = await fr.request('PUT', `/api/v1/flows/${a}`, {
      token,
      body: { definition: `\nmetadata: { name: ping }\nnodes:\n  start:\n    type: flow\n    params: { flow: "${b}" }\n` }
    })
    t.equal(update.statusCode, 200, 'a cycle through another flow is only found at run time')
    const top = await finished(fr, token, await runFlow(fr, token, a))
    t.equal(top.status, 'failed')
    const chain: BulkExecution[] = [top]
    for (;;) {
      const below = await childrenOf(fr, token, chain.at(-1)?.id ?? '')
      const next = below.executions[0]
      if (next === undefined) break
      t.equal(below.total, 1)
      chain.push(await execution(fr, token, next.id))
      if (chain.length > 10) break
    }
    t.same(chain.map((e) => e.flow_id), [a, b, a, b, a, b], 'depths 0 to 5 ran')
    t.ok(chain.every((e) => e.status === 'failed'), 'and all failed')
    t.match(chain.at(-1)?.error, /nest at most 5/, 'the node that would have gone deeper failed')
  })

  await t.test('cancel mid-fan-out: every live child and grandchild is cancelled, no new one starts', async (t) => {
    // every call takes 300 ms: the cancel finds calls in flight, and items queued behind them
    sim.settings.latencyMs = 300
    t.teardown(() => {
      sim.settings.latencyMs = 0
    })
    // each item runs the one-call flow as a sub-flow: the cancel has grandchildren to reach
    const wrapper = await createFlow(fr, token, `
metadata: { name: wraps the slow item }
nodes:
  start:
    type: flow
    params: { flow: "${itemFlow}", input: { id: "\${input.id}" } }
`)
    const ids = Array.from({ length: 200 }, (_, i) => `cut-${i}`)
    for (const assetId of ids) addAsset(sim, assetId)
    const parentFlow = await createFlow(fr, token, fanOut(wrapper, 'concurrency: 5'))
    const mark = sim.calls.length
    const id = await runFlow(fr, token, parentFlow, { items: ids })
    await until('10 items to have called upstream', () => sum(callsPerAsset(sim, 'cut-', mark)), (n) => n >= 10)
    // and one more is on its way: the cancel finds a grandchild in the middle of its call
    await sim.nextRequest()

    const res = await fr.request('DELETE', `/api/v1/executions/${id}`, { token })
    t.equal(res.statusCode, 200)
    const cancelledAt = Date.now()
    const quiet = await until(
      'no child to be live',
      () => execution(fr, token, id),
      (e) => e.children !== undefined && e.children.running + e.children.queued + e.children.waiting === 0,
      5_000
    )
    const took = Date.now() - cancelledAt
    t.ok(took < 2_000, `no child running or queued ${took} ms after the cancel`)
    const callsThen = sum(callsPerAsset(sim, 'cut-', mark))
    const counts = quiet.children
    t.equal(counts?.total, 200)
    t.equal(counts?.failed, 0)
    t.same((await childrenOf(fr, token, id, 'failed')).executions.map((e) => `item ${e.item_index}: ${e.error}`), [], 'no item failed')
    t.ok((counts?.cancelled ?? 0) > 0, `${counts?.cancelled} items cancelled`)
    t.equal((counts?.completed ?? 0) + (counts?.cancelled ?? 0), 200)
    t.equal((await finished(fr, token, id)).status, 'cancelled')

    // the grandchildren (each item's sub-flow) too: nothing of this user is live anywhere
    const [live] = await fr.sql<{ n: string }>(`SELECT count(*)::text AS n FROM executions WHERE status IN ('queued', 'running', 'waiting')`)
    t.equal(live?.n, '0', 'no execution left queued, running or waiting')
    const items = (await childrenOf(fr, token, id)).executions
    const grandchildren = (await Promise.all(items.filter((e) => e.status === 'cancelled').slice(0, 20).map((e) => childrenOf(fr, token, e.id)))).flatMap(
      (p) => p.executions
    )
    const backwards = items.filter((e) => e.started_at !== null && e.completed_at !== null && Date.parse(e.started_at) > Date.parse(e.completed_at))
    t.same(backwards.map((e) => `item ${e.item_index}: started ${e.started_at}, ended ${e.completed_at}`), [], 'no cancelled item was started after it ended')
    t.ok(grandchildren.length > 0, `${grandchildren.length} of the cancelled items had started their sub-flow`)
    t.ok(grandchildren.every((g) => g.status === 'cancelled'), 'which was cancelled too')

    await allJobsSettled(fr, [...items.map((e) => e.id), ...grandchildren.map((g) => g.id)])
    const callsAfter = sum(callsPerAsset(sim, 'cut-', mark))
    t.equal(callsAfter, callsThen, `the upstream call count stopped growing (${callsAfter} of 200 items called)`)
    t.ok(callsAfter < 200)
  })

  await t.test('run ?wait=: 200 with the finished execution, or 202 when it takes longer', async (t) => {
    const quick = await createFlow(fr, token, `
metadata: { name: quick }
nodes:
  start:
    type: transform
    params: { expression: '{"doubled": input.n * 2}' }
`)
    const waited = await fr.request('POST', `/api/v1/flows/${quick}/run?wait=10s`, { token, body: { input: { n: 21 } } })
    t.equal(waited.statusCode, 200)
    t.match(waited.json(), { id: String, flow_id: quick, status: 'completed', input: { n: 21 }, result: { doubled: 42 }, parent_id: null, rerun_of: null })
    t.same(await execution(fr, token, (waited.json() as { id: string }).id), waited.json(), 'the GET /executions/:id shape')

    const slow = await createFlow(fr, token, `
metadata: { name: slow }
nodes:
  start:
    type: delay
    params: { duration: 3s }
`)
    const accepted = await fr.request('POST', `/api/v1/flows/${slow}/run?wait=100`, { token, body: { input: {} } })
    t.equal(accepted.statusCode, 202)
    const reply = accepted.json() as { execution_id: string; status: string }
    t.same(Object.keys(reply).sort(), ['created_at', 'execution_id', 'flow_id', 'status'], 'the usual run reply')
    t.ok(LIVE.includes(reply.status), `still ${reply.status}`)
    t.equal((await fr.request('DELETE', `/api/v1/executions/${reply.execution_id}`, { token })).statusCode, 200)
  })

  await t.test('rerun: from a node with the earlier results, from the failed node, and the refusals', async (t) => {
    const steps = await createFlow(fr, token, `
metadata: { name: steps }
nodes:
  first:
    type: transform
    params: { expression: '{"n": input.n}' }
    next: { default: second }
  second:
    type: transform
    params: { expression: '{"n": nodes.first.n + 1, "input": input.n}' }
`)
    const original = await finished(fr, token, await runFlow(fr, token, steps, { n: 1 }))
    t.same(original.result, { n: 2, input: 1 })

    const nothingFailed = await fr.request('POST', `/api/v1/executions/${original.id}/rerun`, { token, body: {} })
    t.equal(nothingFailed.statusCode, 409, 'nothing failed and no node named')
    const unknown = await fr.request('POST', `/api/v1/executions/${original.id}/rerun`, { token, body: { from: 'nowhere' } })
    t.equal(unknown.statusCode, 400, 'an unknown node')

    const fromSecond = await fr.request('POST', `/api/v1/executions/${original.id}/rerun`, { token, body: { from: 'second', input: { n: 10 } } })
    t.equal(fromSecond.statusCode, 201)
    const rerun = await finished(fr, token, (fromSecond.json() as { execution_id: string }).execution_id)
    t.equal(rerun.rerun_of, original.id)
    t.same(rerun.result, { n: 2, input: 10 }, 'nodes.first carried over from the original, the new input given')
    t.same((await logsOf(fr, token, rerun.id)).filter((l) => l.message === 'Node started').map((l) => l.node_id), ['second'])

    // the flow changes: the re-run takes the original's version or the latest, as asked
    const changed = await fr.request('PUT', `/api/v1/flows/${steps}`, {
      token,
      body: { definition: `\nmetadata: { name: steps }\nnodes:\n  first:\n    type: transform\n    params: { expression: '{"n": input.n}' }\n    next: { default: second }\n  second:\n    type: transform\n    params: { expression: '{"n": nodes.first.n + 100}' }\n` }
    })
    t.equal(changed.statusCode, 200)
    for (const [version, expected] of [['pinned', { n: 2, input: 1 }], ['latest', { n: 101 }]] as const) {
      const res = await fr.request('POST', `/api/v1/executions/${original.id}/rerun`, { token, body: { from: 'second', version } })
      t.equal(res.statusCode, 201)
      t.same((await finished(fr, token, (res.json() as { execution_id: string }).execution_id)).result, expected, `version: ${version}`)
    }

    // from the failed node (the default): the node before it does not run again
    const lookup = await createFlow(fr, token, `
metadata: { name: lookup }
nodes:
  pick:
    type: transform
    params: { expression: '{"id": input.asset}' }
    next: { default: fetch }
  fetch:
    type: evercycle
    params: { operation: get-asset-id, params: { id: "\${nodes.pick.id}" } }
`)
    const failed = await finished(fr, token, await runFlow(fr, token, lookup, { asset: 'late-1' }))
    t.equal(failed.status, 'failed')
    t.equal(failed.node_id, 'fetch')
    addAsset(sim, 'late-1')
    const mark = sim.calls.length
    const res = await fr.request('POST', `/api/v1/executions/${failed.id}/rerun`, { token, body: {} })
    t.equal(res.statusCode, 201)
    const fixed = await finished(fr, token, (res.json() as { execution_id: string }).execution_id)
    t.equal(fixed.status, 'completed')
    t.match(fixed.result, { status_code: 200, body: { id: 'late-1' } })
    t.same((await logsOf(fr, token, fixed.id)).filter((l) => l.message === 'Node started').map((l) => l.node_id), ['fetch'])
    t.equal(sim.calls.length - mark, 1)

    // a live execution cannot be re-run
    const slow = await createFlow(fr, token, `
metadata: { name: still going }
nodes:
  start:
    type: delay
    params: { duration: 1m }
`)
    const live = await runFlow(fr, token, slow)
    const conflict = await fr.request('POST', `/api/v1/executions/${live}/rerun`, { token, body: { from: 'start' } })
    t.equal(conflict.statusCode, 409, 'the original is still live')
    t.equal((await fr.request('DELETE', `/api/v1/executions/${live}`, { token })).statusCode, 200)
  })
})
