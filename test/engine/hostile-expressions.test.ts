import tap from 'tap'
import { createFlow, EventRecorder, getExecution, logsOf, runFlow, runToEnd, waitFinal } from '../helpers/executions.js'
import { eightTemplatesFlow, regexBomb, transformFlow } from '../../dev/hostile-flows.js'
import { buildFlowRunner } from '../helpers/flowrunner.js'

// Issue 19, attacks 1 and 2: flow expressions run in worker threads under hard limits, so no expression can
// stall the server's event loop or fill its heap.

const REGEX_BOMB = regexBomb(30)

tap.test('while hostile expressions run, the server answers; cancel stops them', async (t) => {
  // limits far above the test's length: the flows are still running when /health is asked
  const fr = await buildFlowRunner(t, {
    backend: 'pglite',
    env: { FLOWRUNNER_EXPRESSION_TIMEOUT: '60000', FLOWRUNNER_NODE_EXPRESSION_BUDGET: '120000', FLOWRUNNER_EXPRESSION_THREADS: '3', FLOWRUNNER_CONCURRENCY: '6' }
  })
  const events = new EventRecorder(fr)
  const user = await fr.createUser('hostile')
  const flows = [
    transformFlow('regex', REGEX_BOMB),
    transformFlow('big-string', '$string([1..5000000]) ~> $length()'),
    eightTemplatesFlow('eight-templates', REGEX_BOMB)
  ]
  const ids: string[] = []
  for (const definition of flows) ids.push(await runFlow(fr, user.token, await createFlow(fr, user.token, definition)))
  await Promise.all(ids.map((id) => events.nodeStarted(id, 'start')))

  const health = await fr.request('GET', '/health')
  t.equal(health.statusCode, 200, '/health answers')
  const flowsList = await fr.request('GET', '/api/v1/flows', { token: user.token })
  t.equal(flowsList.statusCode, 200, 'the API answers')
  // the regex and the templates run for minutes: they are still running after the server answered
  for (const id of [ids[0], ids[2]] as string[]) t.equal((await getExecution(fr, user.token, id)).status, 'running')

  for (const id of ids) {
    const cancel = await fr.request('DELETE', `/api/v1/executions/${id}`, { token: user.token })
    // the big string may have finished meanwhile
    t.ok([200, 409].includes(cancel.statusCode), `cancel answered ${cancel.statusCode}`)
  }
  for (const id of ids) t.match((await waitFinal(fr, user.token, id)).status, /^(cancelled|completed)$/)

  // the threads that ran them were terminated and replaced: the pool still evaluates
  const after = await runToEnd(fr, user.token, transformFlow('after', '1 + 1'))
  t.equal(after.status, 'completed')
  t.equal(after.result, 2)
})

tap.test('the per-evaluation limit and the per-node budget stop native calls', async (t) => {
  const fr = await buildFlowRunner(t, { backend: 'pglite', env: { FLOWRUNNER_EXPRESSION_TIMEOUT: '300', FLOWRUNNER_NODE_EXPRESSION_BUDGET: '600' } })
  const user = await fr.createUser('limits')

  await t.test('one expression past its limit: its thread is stopped, the node fails', async (t) => {
    const done = await runToEnd(fr, user.token, transformFlow('regex', REGEX_BOMB))
    t.equal(done.status, 'failed')
    t.match(done.error, /ran longer than 300 ms and was stopped/)
    const failed = (await logsOf(fr, user.token, done.id, '&level=error'))[0]
    t.match(failed?.data, { code: 'expression_timeout' })
  })

  await t.test("eight templates in one node share the node's budget", async (t) => {
    const done = await runToEnd(fr, user.token, eightTemplatesFlow('templates', REGEX_BOMB))
    t.equal(done.status, 'failed')
    t.match(done.error, /expressions ran longer than its budget of 600 ms/)
  })

  await t.test('an expression within its limits completes', async (t) => {
    const done = await runToEnd(fr, user.token, transformFlow('fine', '$sum([1..1000])'))
    t.equal(done.status, 'completed')
    t.equal(done.result, 500500)
  })
})

tap.test('an expression cannot build an unbounded value', async (t) => {
  const fr = await buildFlowRunner(t, { backend: 'pglite', env: { FLOWRUNNER_MAX_RESULT_BYTES: '65536', FLOWRUNNER_MAX_DEPTH: '64' } })
  const user = await fr.createUser('big')

  await t.test('$pad to 100 MB fails the node with result_too_large; nothing of it is stored', async (t) => {
    const done = await runToEnd(fr, user.token, transformFlow('pad', '$pad("x", 100000000)'))
    t.equal(done.status, 'failed')
    t.match(done.error, /larger than 65536 bytes/)
    t.equal(done.result, null)
    const [row] = await fr.sql<{ n: number }>('SELECT coalesce(max(length(nodes::text)), 0)::int AS n FROM executions WHERE id = $1', [done.id])
    t.ok((row?.n ?? 0) < 65536, 'the stored row holds no part of the value')
  })

  await t.test('a value nested past the depth limit fails with result_too_deep', async (t) => {
    const done = await runToEnd(fr, user.token, transformFlow('deep', '$reduce([1..200], function($a, $i){ {"a": $a} }, 1)'))
    t.equal(done.status, 'failed')
    t.match(done.error, /deeper than 64 levels/)
  })

  await t.test('a template building a huge header fails the same way', async (t) => {
    const done = await runToEnd(
      fr,
      user.token,
      `
metadata: { name: big-header }
nodes:
  start:
    type: http.request
    params:
      url: "http://127.0.0.1:9/never"
      headers: { x-big: '\${$pad("x", 1000000)}' }
`
    )
    t.equal(done.status, 'failed')
    t.match(done.error, /larger than 65536 bytes/)
  })
})
