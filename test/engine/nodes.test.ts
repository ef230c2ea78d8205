import { createHmac } from 'node:crypto'
import { DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { createFlow, logsOf, runFlow, runToEnd, setSecret, waitFinal } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { startSimulator } from '../helpers/gateway.js'
import { startReceiver } from '../helpers/receiver.js'

interface Echo {
  method: string
  path: string
  query: string
  headers: Record<string, string>
  body: unknown
}

// Every node type against real endpoints: the loopback receiver (allowed by FLOWRUNNER_ALLOW_HOSTS, port only)
// and the Evercycle simulator behind the gateway's own client. Several executions share one app per backend.
eachBackend('node types against the receiver and the simulator', async (t, backend) => {
  const sim = await startSimulator(t)
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, {
    backend,
    sim,
    env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_MAX_RESPONSE_BYTES: '65536' }
  })
  const user = await fr.createUser('nodes')
  const base = receiver.url

  await t.test('http.request: method, headers, query, JSON body; result {status_code, headers, body}', async (t) => {
    receiver.on('/items', { status: 201, echo: true, headers: { 'x-answer': 'yes' } })
    const done = await runToEnd(
      fr,
      user.token,
      `
metadata: { name: http request }
nodes:
  start:
    type: http.request
    params:
      url: "\${input.base}/items"
      method: PUT
      headers:
        x-custom: fixed
        x-count: "n=\${input.n}"
      query:
        page: 2
        tag: "\${input.tag}"
      body:
        n: "\${input.n}"
        label: "item \${input.tag}"
        nested: { list: [1, 2] }
`,
      { base, n: 7, tag: 'a b' }
    )
    t.equal(done.status, 'completed')
    const seen = receiver.to('/items')
    t.equal(seen.length, 1)
    t.equal(seen[0]?.method, 'PUT')
    // params are stored as jsonb, which keeps no key order: compare the query as a set
    t.same(Object.fromEntries(new URLSearchParams(seen[0]?.query)), { page: '2', tag: 'a b' })
    t.equal(seen[0]?.headers['x-custom'], 'fixed')
    t.equal(seen[0]?.headers['x-count'], 'n=7')
    t.match(seen[0]?.headers['content-type'], /^application\/json/)
    t.same(JSON.parse(seen[0]?.body ?? ''), { n: 7, label: 'item a b', nested: { list: [1, 2] } }, 'a whole ${} keeps its type')
    const result = done.result as { status_code: number; headers: Record<string, string>; body: Echo }
    t.same(Object.keys(result).sort(), ['body', 'headers', 'status_code'])
    t.equal(result.status_code, 201)
    t.equal(result.headers['x-answer'], 'yes')
    t.equal(result.body.method, 'PUT', 'a JSON body is parsed')
    const completed = (await logsOf(fr, user.token, done.id)).find((l) => l.message === 'Node completed')
    t.match(completed?.data, { status_code: 201, url: `${base}/items?${seen[0]?.query ?? ''}` })
    t.equal(typeof (completed?.data as { duration_ms: unknown }).duration_ms, 'number')
  })

  // log lines are written with their step, after the node ran: each keeps the time it happened
  await t.test('log lines carry the time they happened, not the time their step was saved', async (t) => {
    receiver.on('/slowly', { status: 200, body: { ok: true }, delayMs: 400 })
    const done = await runToEnd(
      fr,
      user.token,
      `
metadata: { name: timed lines }
nodes:
  start:
    type: http.request
    params: { url: "\${input.base}/slowly" }
`,
      { base }
    )
    t.equal(done.status, 'completed')
    const logs = await logsOf(fr, user.token, done.id)
    const at = (message: string): number => Date.parse(logs.find((l) => l.message === message)?.timestamp ?? '')
    const ran = at('Node completed') - at('Node started')
    t.ok(ran >= 390, `"Node started" is stamped when the node started (${ran} ms before it completed)`)
    const duration = (logs.find((l) => l.message === 'Node completed')?.data as { duration_ms: number }).duration_ms
    t.ok(ran >= duration, 'and not after the node began')
  })

  await t.test('http.request: a text body stays text; status >= 400 fails the node', async (t) => {
    receiver.on('/text', { body: 'plain words' })
    receiver.on('/missing', { status: 404, body: { message: 'nope' } })
    const text = await runToEnd(fr, user.token, `
metadata: { name: text }
nodes:
  start:
    type: http.request
    params: { url: "${base}/text" }
`)
    t.equal((text.result as { body: unknown }).body, 'plain words')

    const failed = await runToEnd(fr, user.token, `
metadata: { name: not found }
nodes:
  start:
    type: http.request
    params: { url: "${base}/missing" }
    next: { default: after }
  after:
    type: transform
    params: { expression: '"unreachable"' }
`)
    t.equal(failed.status, 'failed')
    t.equal(failed.error, 'HTTP request failed with status 404')
    t.equal(failed.node_id, 'start')
    const logs = await logsOf(fr, user.token, failed.id)
    t.match(logs.find((l) => l.message === 'Node failed'), { level: 'error', node_id: 'start', data: { error: 'HTTP request failed with status 404', status_code: 404 } })
    t.match(logs.at(-1), { level: 'error', message: 'Execution failed', data: { error: 'HTTP request failed with status 404' } })
    t.notOk(logs.some((l) => l.node_id === 'after'), 'nothing after the failed node ran')
  })

  await t.test('webhook: really sends, signed with the stored secret', async (t) => {
    const hookSecret = 'whsec-0123456789-signing-key'
    await setSecret(fr, user, 'HOOK', hookSecret)
    receiver.on('/hook', { status: 202, body: { accepted: true } })
    const done = await runToEnd(
      fr,
      user.token,
      `
metadata: { name: webhook }
nodes:
  start:
    type: webhook
    params:
      url: "${base}/hook"
      headers: { x-source: flowrunner }
      body: { event: "asset.updated", id: "\${input.id}", note: "\${input.note}" }
      secret: "\${secrets.HOOK}"
`,
      { id: 1002, note: 'ünïcode "quoted"' }
    )
    t.equal(done.status, 'completed')
    const [hook] = receiver.to('/hook')
    t.equal(hook?.method, 'POST', 'POST by default')
    t.equal(hook?.headers['x-source'], 'flowrunner')
    t.same(JSON.parse(hook?.body ?? ''), { event: 'asset.updated', id: 1002, note: 'ünïcode "quoted"' })
    const expected = `sha256=${createHmac('sha256', hookSecret).update(hook?.body ?? '').digest('hex')}`
    t.equal(hook?.headers['x-flowrunner-signature'], expected, 'HMAC-SHA256 of the exact bytes received')
    t.match(done.result, { status_code: 202, body: { accepted: true } })

    // unsigned, with another method
    receiver.on('/put-hook', { status: 200, body: 'ok' })
    const put = await runToEnd(fr, user.token, `
metadata: { name: webhook put }
nodes:
  start:
    type: webhook
    params: { url: "${base}/put-hook", method: PUT, body: { a: 1 } }
`)
    t.equal(put.status, 'completed')
    t.equal(receiver.to('/put-hook')[0]?.method, 'PUT')
    t.notOk(receiver.to('/put-hook')[0]?.headers['x-flowrunner-signature'])
  })

  await t.test('evercycle: the gateway client with the service identity; params fill path parameters', async (t) => {
    sim.reset()
    const one = await runToEnd(
      fr,
      user.token,
      `
metadata: { name: evercycle }
nodes:
  start:
    type: evercycle
    params: { operation: get-all, query: { status: active } }
    next: { default: one }
  one:
    type: evercycle
    params:
      operation: get-asset-id
      params: { id: "\${input.asset}" }
    next: { default: shape }
  shape:
    type: transform
    params:
      expression: '{"active": nodes.start.body.total, "name": nodes.one.body.name, "status": nodes.one.status_code}'
`,
      { asset: 1002 }
    )
    t.equal(one.status, 'completed')
    t.same(one.result, { active: 3, name: 'iPhone 15', status: 200 })
    const all = sim.callsTo('GET', '/v1/asset')
    t.equal(all.length, 1)
    t.equal(all[0]?.query, 'status=active')
    const byId = sim.callsTo('GET', '/v1/asset/1002')
    t.equal(byId.length, 1, 'the path parameter filled the template')
    t.equal(byId[0]?.query, '', 'and was not forwarded as a query parameter')
    t.ok(byId[0]?.authenticated)
    t.equal(byId[0]?.user, DEMO_USERNAME, 'the service identity')

    // a path parameter cannot add segments: "/" is encoded, ".." is refused before anything is sent
    sim.reset()
    const escaped = await runToEnd(fr, user.token, `
metadata: { name: evercycle escape }
nodes:
  start:
    type: evercycle
    params: { operation: get-asset-id, params: { id: "1002/../../auth/signin" } }
`)
    t.equal(escaped.status, 'failed')
    t.equal(escaped.error, 'Evercycle operation get-asset-id failed with status 404')
    t.same(sim.calls.map((c) => c.path), ['/v1/asset/1002%2F..%2F..%2Fauth%2Fsignin'])
    const dots = await runToEnd(fr, user.token, `
metadata: { name: evercycle dots }
nodes:
  start:
    type: evercycle
    params: { operation: get-asset-id, params: { id: ".." } }
`)
    t.equal(dots.status, 'failed')
    t.match(dots.error, /Path parameter "id" has an invalid value/)
    t.equal(sim.calls.length, 1, 'nothing sent for the refused one')
  })

  await t.test('response bodies are capped (FLOWRUNNER_MAX_RESPONSE_BYTES), from any endpoint', async (t) => {
    receiver.on('/big', { body: 'x'.repeat(100_000) })
    const big = await runToEnd(fr, user.token, `
metadata: { name: big body }
nodes:
  start:
    type: http.request
    params: { url: "${base}/big" }
`)
    t.equal(big.status, 'failed')
    t.equal(big.error, 'Response body exceeds 65536 bytes')

    // 1,000 simulator assets are about 450 KB
    const bulk = await runToEnd(fr, user.token, `
metadata: { name: big evercycle }
nodes:
  start:
    type: evercycle
    params: { operation: get-all, query: { bulk: 1000 } }
`)
    t.equal(bulk.status, 'failed')
    t.equal(bulk.error, 'Response body exceeds 65536 bytes')
  })

  await t.test('evercycle: a 5xx is retried, then fails the node', async (t) => {
    sim.reset()
    sim.settings.bodyMode = 'error'
    t.teardown(() => sim.reset())
    const done = await runToEnd(fr, user.token, `
metadata: { name: evercycle down }
nodes:
  start:
    type: evercycle
    params: { operation: get-all }
    retry: { max_attempts: 2, backoff_ms: 5 }
`)
    t.equal(done.status, 'failed')
    t.equal(done.error, 'Evercycle operation get-all failed with status 500')
    t.equal(sim.callsTo('GET', '/v1/asset').length, 2)
  })

  await t.test('transform: JSONata over input, nodes and execution; the last result is the result', async (t) => {
    const flowId = await createFlow(fr, user.token, `
metadata: { name: transform }
nodes:
  start:
    type: transform
    params: { expression: '{"items": input.items[price > 10].name, "sum": $sum(input.items.price)}' }
    next: { default: finish }
  finish:
    type: transform
    params: { expression: '{"names": nodes.start.items, "sum": nodes.start.sum, "exec": execution.id}' }
`)
    const id = await runFlow(fr, user.token, flowId, { items: [{ name: 'a', price: 5 }, { name: 'b', price: 20 }, { name: 'c', price: 30 }] })
    const done = await waitFinal(fr, user.token, id)
    t.same(done.result, { names: ['b', 'c'], sum: 55, exec: id })
  })

  await t.test('condition: a string action, true/false, and default when no edge matches', async (t) => {
    const byName = await createFlow(fr, user.token, `
metadata: { name: condition by name }
nodes:
  start:
    type: condition
    params: { expression: 'input.kind' }
    next: { approved: yes, rejected: no, default: other }
  "yes":
    type: transform
    params: { expression: '"went yes"' }
  "no":
    type: transform
    params: { expression: '"went no"' }
  other:
    type: transform
    params: { expression: '"went other"' }
`)
    for (const [kind, expected] of [['approved', 'went yes'], ['rejected', 'went no'], ['unheard of', 'went other']] as const) {
      const done = await waitFinal(fr, user.token, await runFlow(fr, user.token, byName, { kind }))
      t.equal(done.result, expected, kind)
      t.equal((await logsOf(fr, user.token, done.id)).filter((l) => l.message === 'Node started').length, 2, 'only one branch ran')
    }
    const bool = await createFlow(fr, user.token, `
metadata: { name: condition true false }
nodes:
  start:
    type: condition
    params: { expression: 'input.n > 10' }
    next: { "true": big, "false": small }
  big:
    type: transform
    params: { expression: '"big"' }
  small:
    type: transform
    params: { expression: '"small"' }
`)
    t.equal((await waitFinal(fr, user.token, await runFlow(fr, user.token, bool, { n: 11 }))).result, 'big')
    t.equal((await waitFinal(fr, user.token, await runFlow(fr, user.token, bool, { n: 3 }))).result, 'small')
    // no edge for the action: the execution ends there, completed with the condition's value
    const end = await runToEnd(fr, user.token, `
metadata: { name: condition end }
nodes:
  start:
    type: condition
    params: { expression: '"nowhere"' }
    next: { somewhere: other }
  other:
    type: transform
    params: { expression: '1' }
`)
    t.equal(end.status, 'completed')
    t.equal(end.result, 'nowhere')
  })

  await t.test('delay: waits, then continues; result {delayed_ms}', async (t) => {
    receiver.on('/after-delay', { status: 200, body: {} })
    const done = await runToEnd(
      fr,
      user.token,
      `
metadata: { name: delay }
nodes:
  start:
    type: delay
    params: { duration: "\${input.wait}" }
    next: { default: wait2 }
  wait2:
    type: delay
    params: { duration: 50 }
    next: { default: call }
  call:
    type: http.request
    params: { url: "${base}/after-delay", method: POST, body: { first: "\${nodes.start}", second: "\${nodes.wait2.delayed_ms}" } }
`,
      { wait: '150ms' }
    )
    t.equal(done.status, 'completed')
    t.same(JSON.parse(receiver.to('/after-delay')[0]?.body ?? ''), { first: { delayed_ms: 150 }, second: 50 })
    t.ok((done.duration ?? 0) >= 200, 'the execution lasted at least the two delays')
  })

  await t.test('error edges: a failing node with next.error continues; its error is at nodes.<id>.error', async (t) => {
    receiver.on('/broken', { status: 500, body: { message: 'boom' } })
    const done = await runToEnd(fr, user.token, `
metadata: { name: error edge }
nodes:
  start:
    type: http.request
    params: { url: "${base}/broken" }
    next: { default: happy, error: recover }
  happy:
    type: transform
    params: { expression: '"happy path"' }
  recover:
    type: transform
    params: { expression: '{"caught": nodes.start.error}' }
`)
    t.equal(done.status, 'completed')
    t.same(done.result, { caught: 'HTTP request failed with status 500' })
    t.notOk(done.error)
    const logs = await logsOf(fr, user.token, done.id)
    t.same(logs.filter((l) => l.message === 'Node started').map((l) => l.node_id), ['start', 'recover'])
    t.match(logs.find((l) => l.message === 'Node failed'), { level: 'error', node_id: 'start' })
  })

  await t.test('expression errors name the expression and its position', async (t) => {
    const transform = await runToEnd(fr, user.token, `
metadata: { name: bad transform }
nodes:
  start:
    type: transform
    params: { expression: 'input.a + input.b' }
`, { a: 1, b: 'text' })
    t.equal(transform.status, 'failed')
    t.equal(transform.node_id, 'start')
    t.match(transform.error, /^Expression "input\.a \+ input\.b" failed at position \d+: .+/)
    const failedLog = (await logsOf(fr, user.token, transform.id)).find((l) => l.message === 'Node failed')
    t.match(failedLog?.data, { expression: 'input.a + input.b', position: Number })

    const template = await runToEnd(fr, user.token, `
metadata: { name: bad template }
nodes:
  start:
    type: http.request
    params: { url: "${base}/\${$nope(input.a)}" }
`, { a: 1 })
    t.equal(template.status, 'failed')
    t.match(template.error, /^Expression "\$nope\(input\.a\)" failed at position \d+: /)
  })
})
