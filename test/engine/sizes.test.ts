import { createFlow, getExecution, jobsSettled, logsOf, runFlow, runToEnd, setSecret, waitFinal, type ExecutionReply } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend, type FlowRunner } from '../helpers/flowrunner.js'
import { startReceiver, type Receiver } from '../helpers/receiver.js'

/** `{"a":{"a":...1...}}`, `depth` objects deep, as text (JSON.stringify would overflow on it). */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
}

/**
 * Runs a flow whose node posts to `path` once and waits until the execution ends or the receiver sees the
 * request a second time (a job retried after its expiry), whichever comes first.
 */
async function endOrResend(fr: FlowRunner, token: string, receiver: Receiver, path: string, definition: string): Promise<ExecutionReply> {
  const id = await runFlow(fr, token, await createFlow(fr, token, definition))
  await Promise.race([waitFinal(fr, token, id), receiver.arrival(path, 2)])
  return getExecution(fr, token, id)
}

// Issue 19 (2) and (3): every size an execution writes is bounded, and a step that cannot be saved ends its
// execution instead of being run again at each job expiry.
eachBackend('bounded sizes; a step that cannot be saved ends its execution', async (t, backend) => {
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, {
    backend,
    env: {
      FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`,
      FLOWRUNNER_MAX_RESULT_BYTES: '65536',
      FLOWRUNNER_MAX_INPUT_BYTES: '4096',
      FLOWRUNNER_MAX_LOG_DATA_BYTES: '1024',
      FLOWRUNNER_MAX_ERROR_CHARS: '256'
    }
  })
  const user = await fr.createUser('sizes')
  const base = receiver.url

  await t.test('run input: too deep is 400 invalid_request, too large 413, never a 500', async (t) => {
    const flowId = await createFlow(fr, user.token, `
metadata: { name: echo input }
nodes:
  start:
    type: transform
    params: { expression: 'input' }
`)
    const run = (body: string) =>
      fr.request('POST', `/api/v1/flows/${flowId}/run`, { token: user.token, body, headers: { 'content-type': 'application/json' } })

    for (const depth of [300, 5_000, 100_000]) {
      const res = await run(`{"input":${nested(depth)}}`)
      t.equal(res.statusCode, 400, `${depth} levels: 400`)
      t.match(res.json(), {
        error: { code: 'invalid_request', message: 'The request was invalid: input nests deeper than 256 levels', details: { field: 'input', reason: 'nests deeper than 256 levels' } }
      })
    }
    const large = await run(JSON.stringify({ input: { s: 'x'.repeat(8_000) } }))
    t.equal(large.statusCode, 413)
    t.match(large.json(), { error: { code: 'payload_too_large', message: /input is larger than 4096 bytes/, details: { field: 'input' } } })

    // within the limits: runs, and the input comes back whole
    const ok = await run(`{"input":${nested(200)}}`)
    t.equal(ok.statusCode, 201)
    const done = await waitFinal(fr, user.token, (ok.json() as { execution_id: string }).execution_id)
    t.equal(done.status, 'completed')
    t.same(done.result, JSON.parse(nested(200)))
  })

  await t.test('a node result too large fails the node (not retried); its error edge is taken', async (t) => {
    // an upstream's answer, not an expression: the expression threads refuse a large value themselves, and the
    // engine must refuse whatever a node returns
    receiver.on('/large', { status: 200, body: { s: 'x'.repeat(100_000) } })
    const failed = await runToEnd(fr, user.token, `
metadata: { name: too large }
nodes:
  start:
    type: http.request
    params: { url: "${base}/large" }
    retry: { max_attempts: 3, backoff_ms: 5 }
`)
    t.equal(failed.status, 'failed')
    t.equal(failed.error, 'result_too_large: Node result is larger than 65536 bytes as JSON')
    t.equal(failed.result, null)
    t.equal(receiver.to('/large').length, 1, 'not retried')
    const logs = await logsOf(fr, user.token, failed.id)
    t.equal(logs.filter((l) => l.message === 'Node started').length, 1, 'tried once')
    t.match(logs.find((l) => l.message === 'Node failed'), { level: 'error', node_id: 'start', data: { error: failed.error, code: 'result_too_large' } })
    t.notOk(logs.some((l) => l.message === 'Node completed'))

    const handled = await runToEnd(fr, user.token, `
metadata: { name: too large handled }
nodes:
  start:
    type: http.request
    params: { url: "${base}/large" }
    next: { success: never, error: handled }
  never:
    type: transform
    params: { expression: '"unreachable"' }
  handled:
    type: transform
    params: { expression: 'nodes.start.error' }
`)
    t.equal(handled.status, 'completed')
    t.equal(handled.result, 'result_too_large: Node result is larger than 65536 bytes as JSON')
  })

  await t.test('an upstream answering 6,000-level JSON to a webhook: result_too_deep, one POST', async (t) => {
    receiver.on('/deep', { status: 200, body: nested(6_000), headers: { 'content-type': 'application/json' } })
    const done = await endOrResend(fr, user.token, receiver, '/deep', `
metadata: { name: deep answer }
nodes:
  start:
    type: webhook
    params: { url: "${base}/deep", body: { order: 1 } }
    timeout: 2s
`)
    t.equal(receiver.to('/deep').length, 1, 'the receiver got exactly one POST')
    t.equal(done.status, 'failed')
    t.equal(done.error, 'result_too_deep: Node result nests deeper than 256 levels')
    await jobsSettled(fr, done.id)
    t.equal(receiver.to('/deep').length, 1)
  })

  await t.test('a result the database refuses (a NUL character): internal_error, job completed, one POST', async (t) => {
    const secret = 'hook-token-3b9f7c'
    await setSecret(fr, user, 'HOOK_TOKEN', secret)
    // the checks let it through (small, shallow); PostgreSQL's jsonb refuses \u0000 in a string
    receiver.on('/nul', { status: 200, body: `{"echo":"${secret}\\u0000"}`, headers: { 'content-type': 'application/json' } })
    const done = await endOrResend(fr, user.token, receiver, '/nul', `
metadata: { name: nul answer }
nodes:
  start:
    type: webhook
    params:
      url: "${base}/nul"
      headers: { x-token: "\${secrets.HOOK_TOKEN}" }
      body: { order: 1 }
    timeout: 2s
    retry: { max_attempts: 3, backoff_ms: 5 }
`)
    t.equal(receiver.to('/nul').length, 1, 'the receiver got exactly one POST')
    t.equal(done.status, 'failed')
    t.equal(done.node_id, 'start')
    t.match(done.error, /^internal_error: the step of node start could not be saved \(.+, SQLSTATE 22P05\)$/)
    const logs = await logsOf(fr, user.token, done.id)
    t.match(logs.find((l) => l.message === 'Node failed'), { level: 'error', node_id: 'start', data: { error: done.error, code: 'internal_error' } })
    t.match(logs.at(-1), { level: 'error', message: 'Execution failed', data: { error: done.error } })
    t.notOk(JSON.stringify({ done, logs }).includes(secret), 'no secret in the error or the logs')

    // its job was completed by the statement that failed the execution: nothing is retried
    await jobsSettled(fr, done.id)
    const jobs = await fr.sql<{ state: string; retry_count: number }>(
      `SELECT state, retry_count FROM ${fr.app.config.flowRunner.queueSchema}.job WHERE data->>'executionId' = $1`,
      [done.id]
    )
    t.same(jobs, [{ state: 'completed', retry_count: 0 }])
    t.equal(receiver.to('/nul').length, 1)
  })

  await t.test('log data over the limit is a marker; error messages are cut', async (t) => {
    receiver.on('/long', { status: 200, body: { ok: true } })
    const logged = await runToEnd(
      fr,
      user.token,
      `
metadata: { name: long url }
nodes:
  start:
    type: http.request
    params: { url: "${base}/long", query: { q: "\${input.q}" } }
`,
      { q: 'q'.repeat(2_000) }
    )
    t.equal(logged.status, 'completed')
    const completed = (await logsOf(fr, user.token, logged.id)).find((l) => l.message === 'Node completed')
    t.same(completed?.data, { truncated: true, reason: 'Log data is larger than 1024 bytes as JSON' })

    const failed = await runToEnd(fr, user.token, `
metadata: { name: long error }
nodes:
  start:
    type: transform
    params: { expression: '$error($pad("boom", 5000, "!"))' }
`)
    t.equal(failed.status, 'failed')
    t.match(failed.error, /^.{256}… \(\d+ more characters\)$/s)
    const logs = await logsOf(fr, user.token, failed.id)
    t.match(logs.find((l) => l.message === 'Node failed'), { data: { error: failed.error } })
    t.match(logs.at(-1), { message: 'Execution failed', data: { error: failed.error } })
  })
})
