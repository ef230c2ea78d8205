import { createFlow, getExecution, runFlow, waitFinal } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { startReceiver } from '../helpers/receiver.js'

// Issue 19: executions of one account whose node waits on an address that never answers must not take every
// worker slot; another account's executions run beside them.
eachBackend('one account at its cap of running executions leaves the other slots to other accounts', async (t, backend) => {
  const receiver = await startReceiver(t)
  receiver.on('/never', { hang: true })
  const fr = await buildFlowRunner(t, {
    backend,
    // four slots, at most two of them for one account
    env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, FLOWRUNNER_CONCURRENCY: '4', FLOWRUNNER_ACCOUNT_CONCURRENCY: '2' }
  })
  const a = await fr.createUser('hog')
  const b = await fr.createUser('other')
  const hanging = await createFlow(fr, a.token, `
metadata: { name: hangs }
nodes:
  start:
    type: http.request
    params: { url: "${receiver.url}/never", method: POST }
    timeout: 30s
`)
  // the delay hands B's execution to a deferred job, which only a fetch from the queue can claim: by then A's
  // queued jobs are older than it
  const quick = await createFlow(fr, b.token, `
metadata: { name: quick }
nodes:
  wait:
    type: delay
    params: { duration: 10ms }
    next: { default: shape }
  shape:
    type: transform
    params: { expression: '{"done": true}' }
`)

  const hogs: string[] = []
  for (let i = 0; i < 6; i++) hogs.push(await runFlow(fr, a.token, hanging))
  await receiver.arrival('/never', 2)

  const done = await waitFinal(fr, b.token, await runFlow(fr, b.token, quick))
  t.equal(done.status, 'completed', "B's execution completed")
  t.same(done.result, { done: true })

  const statuses = await Promise.all(hogs.map(async (id) => (await getExecution(fr, a.token, id)).status))
  t.same(
    statuses.slice().sort(),
    ['queued', 'queued', 'queued', 'queued', 'running', 'running'],
    "meanwhile A's executions still run, two of them (its cap), the rest queued"
  )
  t.equal(receiver.to('/never').length, 2, 'only the two running executions of A have called out')

  // the queued ones first, so that no freed slot starts another; a cancel aborts the hanging calls
  for (const [i, id] of hogs.entries()) if (statuses[i] === 'queued') await fr.request('DELETE', `/api/v1/executions/${id}`, { token: a.token })
  for (const [i, id] of hogs.entries()) if (statuses[i] !== 'queued') await fr.request('DELETE', `/api/v1/executions/${id}`, { token: a.token })
  for (const id of hogs) t.equal((await waitFinal(fr, a.token, id)).status, 'cancelled')
})
