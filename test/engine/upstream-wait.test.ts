import { createFlow, getExecution, logsOf, runFlow, waitFinal } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { startSimulator } from '../helpers/gateway.js'

const CALL_EVERCYCLE = `
metadata: { name: calls evercycle }
nodes:
  start:
    type: evercycle
    params: { operation: get-all }
`

// Issue 22: an upstream 429 and an open circuit are not failures of a flow's node: it waits, holding no
// worker, for as long as Evercycle (or the breaker) asks, then runs again at the same attempt, whatever its
// `retry` says (here: none).
eachBackend('evercycle nodes wait out a 429 and an open circuit, then run again', async (t, backend) => {
  const sim = await startSimulator(t)
  const fr = await buildFlowRunner(t, { backend, sim, env: { UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_BREAKER_COOLDOWN_MS: '600' } })
  const user = await fr.createUser()
  const flowId = await createFlow(fr, user.token, CALL_EVERCYCLE)

  await t.test('a 429 with Retry-After: 1', async (t) => {
    sim.reset()
    sim.answer429Next(1, '1')
    const id = await runFlow(fr, user.token, flowId)
    const done = await waitFinal(fr, user.token, id)
    t.equal(done.status, 'completed', JSON.stringify(done))
    t.equal(sim.callsTo('GET', '/v1/asset').length, 2, 'called again after the pause')
    const logs = await logsOf(fr, user.token, id)
    const waitLine = logs.find((l) => l.message.startsWith('Waiting'))
    t.match(waitLine, { level: 'info', node_id: 'start', message: /^Waiting 1000 ms for Evercycle: .*rate limiting/ })
    t.match(waitLine?.data, { reason: 'rate_limited', wait_ms: 1000 })
    t.equal(logs.filter((l) => l.message === 'Node started').length, 2)
    t.notOk(logs.some((l) => l.message.startsWith('Attempt')), 'not counted as an attempt')
    t.notOk(logs.some((l) => l.level === 'error'), 'nothing failed')
  })

  await t.test('an open circuit', async (t) => {
    sim.reset()
    sim.settings.bodyMode = 'error'
    for (let i = 0; i < 2; i++) t.equal((await fr.app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 500)
    t.equal((await fr.app.inject({ method: 'GET', url: '/api/get-all' })).json().error.code, 'upstream_circuit_open')
    sim.settings.bodyMode = 'normal'
    const id = await runFlow(fr, user.token, flowId)
    const done = await waitFinal(fr, user.token, id)
    t.equal(done.status, 'completed', JSON.stringify(done))
    const logs = await logsOf(fr, user.token, id)
    t.match(logs.find((l) => l.message.startsWith('Waiting')), { message: /for Evercycle: .*failing/, data: { reason: 'circuit_open' } })
    t.notOk(logs.some((l) => l.message.startsWith('Attempt')))
    t.equal((await getExecution(fr, user.token, id)).status, 'completed')
  })
})

// With a rate, a flow's call that finds no budget left is deferred (waiting, no worker held) rather than
// queued on a worker, and interactive calls keep their reserve: every execution still completes.
eachBackend('with UPSTREAM_RATE_LIMIT, flow calls past the budget are deferred and all complete', async (t, backend) => {
  const sim = await startSimulator(t)
  const fr = await buildFlowRunner(t, { backend, sim, env: { UPSTREAM_RATE_LIMIT: '4', FLOWRUNNER_POLL_MS: '100' } })
  const user = await fr.createUser()
  const flowId = await createFlow(
    fr,
    user.token,
    `
metadata: { name: budgeted }
nodes:
  start:
    type: evercycle
    params: { operation: get-all, query: { n: "\${input.n}" } }
`
  )
  const first = Math.floor(Date.now() / 1000)
  const ids = await Promise.all(Array.from({ length: 10 }, (_, n) => runFlow(fr, user.token, flowId, { n })))
  const done = await Promise.all(ids.map((id) => waitFinal(fr, user.token, id)))
  t.same([...new Set(done.map((e) => e.status))], ['completed'], 'no call lost')
  const deferred = (await Promise.all(ids.map((id) => logsOf(fr, user.token, id)))).filter((logs) => logs.some((l) => (l.data as { reason?: string } | null)?.reason === 'busy'))
  t.ok(deferred.length >= 1, `${deferred.length} executions waited for the budget`)
  for (const [second, n] of sim.callsPerSecond()) {
    if (second > first) t.ok(n <= 4, `${n} calls reached Evercycle in second ${second - first}`)
  }
})
