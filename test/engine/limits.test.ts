import { logsOf, runToEnd } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { startReceiver } from '../helpers/receiver.js'

// Retries, per-node timeouts and the step limit, counted on a loopback receiver.
eachBackend('retries, node timeouts and the step limit', async (t, backend) => {
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_STEP_LIMIT: '20' } })
  const user = await fr.createUser('limits')
  const base = receiver.url

  await t.test('503, 503, 200 with max_attempts 3: three requests, each failed attempt logged at warn', async (t) => {
    receiver.on('/flaky', { status: 503, body: { message: 'busy' } }, { status: 503, body: { message: 'busy' } }, { status: 200, body: { ok: true } })
    const done = await runToEnd(fr, user.token, `
metadata: { name: flaky }
nodes:
  start:
    type: http.request
    params: { url: "${base}/flaky" }
    retry: { max_attempts: 3, backoff_ms: 20 }
`)
    t.equal(done.status, 'completed')
    t.match(done.result, { status_code: 200, body: { ok: true } })
    t.equal(receiver.to('/flaky').length, 3)
    const warns = await logsOf(fr, user.token, done.id, '&level=warn')
    t.equal(warns.length, 2)
    warns.forEach((w, i) => {
      t.match(w.message, new RegExp(`^Attempt ${i + 1} of 3 failed: HTTP request failed with status 503; retrying in \\d+ ms$`))
      t.match(w.data, { attempt: i + 1, error: 'HTTP request failed with status 503', status_code: 503 })
      // exponential with jitter in [0.5, 1.5) of 20 ms, 40 ms
      const wait = (w.data as { retry_in_ms: number }).retry_in_ms
      t.ok(wait >= 10 * 2 ** i && wait <= 30 * 2 ** i, `back-off ${wait} ms for attempt ${i + 1}`)
    })
    const started = (await logsOf(fr, user.token, done.id)).filter((l) => l.message === 'Node started')
    t.same(started.map((l) => (l.data as { attempt?: number }).attempt), [undefined, 2, 3])
  })

  await t.test('retries run out: the last failure fails the execution', async (t) => {
    receiver.on('/down', { status: 502, body: { message: 'bad gateway' } })
    const done = await runToEnd(fr, user.token, `
metadata: { name: down }
nodes:
  start:
    type: http.request
    params: { url: "${base}/down" }
    retry: { max_attempts: 3, backoff_ms: 5 }
`)
    t.equal(done.status, 'failed')
    t.equal(done.error, 'HTTP request failed with status 502')
    t.equal(receiver.to('/down').length, 3)
    t.equal((await logsOf(fr, user.token, done.id, '&level=warn')).filter((l) => l.level === 'warn').length, 2)
  })

  await t.test('a 400 is not retried; a 429 is', async (t) => {
    receiver.on('/bad', { status: 400, body: { message: 'bad request' } })
    const bad = await runToEnd(fr, user.token, `
metadata: { name: bad }
nodes:
  start:
    type: http.request
    params: { url: "${base}/bad" }
    retry: { max_attempts: 3, backoff_ms: 5 }
`)
    t.equal(bad.status, 'failed')
    t.equal(bad.error, 'HTTP request failed with status 400')
    t.equal(receiver.to('/bad').length, 1)
    t.same(await logsOf(fr, user.token, bad.id, '&level=warn').then((l) => l.filter((x) => x.level === 'warn')), [])

    receiver.on('/limited', { status: 429, body: {} }, { status: 200, body: 'fine' })
    const limited = await runToEnd(fr, user.token, `
metadata: { name: limited }
nodes:
  start:
    type: webhook
    params: { url: "${base}/limited", body: { a: 1 } }
    retry: { max_attempts: 2, backoff_ms: 5 }
`)
    t.equal(limited.status, 'completed')
    t.equal(receiver.to('/limited').length, 2)
  })

  await t.test('per-node timeout: the receiver answers later than the node allows', async (t) => {
    const abortedBefore = receiver.aborted
    receiver.on('/slow', { delayMs: 30_000, body: {} })
    const done = await runToEnd(fr, user.token, `
metadata: { name: slow }
nodes:
  start:
    type: http.request
    params: { url: "${base}/slow" }
    timeout: 300ms
    retry: { max_attempts: 2, backoff_ms: 5 }
`)
    t.equal(done.status, 'failed')
    t.equal(done.error, 'Node timed out after 300 ms')
    t.equal(done.node_id, 'start')
    t.equal(receiver.to('/slow').length, 2, 'a timeout is retried')
    await receiver.abortion(abortedBefore + 2)
    t.pass('both requests were torn down')

    // the http.request `timeout` param bounds the call as well
    receiver.on('/slow-param', { delayMs: 30_000, body: {} })
    const param = await runToEnd(fr, user.token, `
metadata: { name: slow param }
nodes:
  start:
    type: http.request
    params: { url: "${base}/slow-param", timeout: "250ms" }
`)
    t.equal(param.status, 'failed')
    t.equal(param.error, 'HTTP request timed out after 250 ms')
    await receiver.abortion(abortedBefore + 3)
  })

  await t.test('step limit: a cycle without a wait stops with a clear error', async (t) => {
    const done = await runToEnd(fr, user.token, `
metadata: { name: runaway }
nodes:
  start:
    type: transform
    params: { expression: '1' }
    next: { default: again }
  again:
    type: transform
    params: { expression: '2' }
    next: { default: start }
`)
    t.equal(done.status, 'failed')
    t.equal(done.error, 'Step limit of 20 nodes exceeded')
    const logs = await logsOf(fr, user.token, done.id)
    t.equal(logs.filter((l) => l.message === 'Node completed').length, 20)
    t.match(logs.at(-1), { level: 'error', message: 'Execution failed', data: { error: 'Step limit of 20 nodes exceeded' } })
  })

  await t.test('a poll loop with a delay is a cycle that ends on its own', async (t) => {
    receiver.on('/status', { body: { state: 'pending' } }, { body: { state: 'pending' } }, { body: { state: 'done' } })
    const done = await runToEnd(fr, user.token, `
metadata: { name: poll }
nodes:
  start:
    type: http.request
    params: { url: "${base}/status" }
    next: { default: check }
  check:
    type: condition
    params: { expression: 'nodes.start.body.state = "done"' }
    next: { "true": finish, "false": wait }
  wait:
    type: delay
    params: { duration: 20 }
    next: { default: start }
  finish:
    type: transform
    params: { expression: '{"polls": 3, "state": nodes.start.body.state}' }
`)
    t.equal(done.status, 'completed')
    t.same(done.result, { polls: 3, state: 'done' })
    t.equal(receiver.to('/status').length, 3)
  })
})

// The execution timeout, on an app whose executions may last one second.
eachBackend('execution timeout', async (t, backend) => {
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_EXECUTION_TIMEOUT: '1000' } })
  const user = await fr.createUser('deadline')
  receiver.on('/never', { hang: true })
  receiver.on('/next', { body: {} })

  const [loop, longDelay, hanging] = await Promise.all([
    // a poll loop that never finds what it waits for
    runToEnd(fr, user.token, `
metadata: { name: endless poll }
nodes:
  start:
    type: delay
    params: { duration: 100 }
    next: { default: again }
  again:
    type: transform
    params: { expression: '"not yet"' }
    next: { default: start }
`),
    // a delay longer than the execution may last is cut at the deadline
    runToEnd(fr, user.token, `
metadata: { name: long delay }
nodes:
  start:
    type: delay
    params: { duration: 1h }
    next: { default: after }
  after:
    type: http.request
    params: { url: "${receiver.url}/next" }
`),
    // a call that never answers is torn down at the deadline, not at the (longer) node timeout; its error
    // edge is not taken, since the execution itself is over
    runToEnd(fr, user.token, `
metadata: { name: hanging }
nodes:
  start:
    type: http.request
    params: { url: "${receiver.url}/never" }
    next: { error: after }
  after:
    type: http.request
    params: { url: "${receiver.url}/next" }
`)
  ])
  for (const done of [loop, longDelay, hanging]) {
    t.equal(done.status, 'failed')
    t.equal(done.error, 'Execution timed out after 1000 ms')
  }
  t.equal(receiver.to('/next').length, 0, 'nothing ran after the deadline')
  t.equal(hanging.node_id, 'start')
})
