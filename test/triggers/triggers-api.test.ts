import { signBody } from '../../src/flows/triggers/hook-request.js'
import { createFlow, getExecution, setSecret, waitFinal } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend, type FlowRunner } from '../helpers/flowrunner.js'
import { BEARER, METRICS_TOKEN, sample } from '../ops/metrics-text.js'

interface TriggerReply {
  id: string
  type: string
  enabled: boolean
  cron: string | null
  timezone: string | null
  catch_up: string | null
  next_fire_at: string | null
  last_fire_at: string | null
  last_execution_id: string | null
  url: string | null
}

/** A flow whose one node returns what it was started with: its input and `execution.trigger`. */
function echoFlow(triggers: string): string {
  return `metadata:
  name: echo
nodes:
  start:
    type: transform
    params:
      expression: '{"trigger": execution.trigger, "input": input}'
triggers:
${triggers}`
}

const HOOK = `  - id: intake
    type: webhook`

async function triggersOf(fr: FlowRunner, token: string, flowId: string): Promise<TriggerReply[]> {
  const res = await fr.request('GET', `/api/v1/flows/${flowId}/triggers`, { token })
  if (res.statusCode !== 200) throw new Error(`triggers answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { triggers: TriggerReply[] }).triggers
}

async function hookUrl(fr: FlowRunner, token: string, flowId: string, id = 'intake'): Promise<string> {
  const url = (await triggersOf(fr, token, flowId)).find((t) => t.id === id)?.url
  if (url == null) throw new Error(`flow ${flowId} has no webhook ${id}`)
  return url
}

function post(fr: FlowRunner, url: string, body: string, headers: Record<string, string> = {}) {
  return fr.app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json', ...headers } })
}

async function metric(fr: FlowRunner, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const res = await fr.app.inject({ method: 'GET', url: '/metrics', headers: BEARER })
  return sample(res.body, name, labels)
}

async function executionCount(fr: FlowRunner, flowId: string): Promise<number> {
  const rows = await fr.sql<{ n: number }>('SELECT count(*)::int AS n FROM executions WHERE flow_id = $1', [flowId])
  return rows[0]?.n ?? 0
}

eachBackend('triggers: definition checks on save', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const cases: Array<[string, string, RegExp]> = [
    ['  - id: a\n    type: schedule\n    cron: "0 2 * *"', 'triggers.0.cron', /5 fields/],
    ['  - id: a\n    type: schedule\n    cron: "61 * * * *"', 'triggers.0.cron', /minute/],
    ['  - id: a\n    type: schedule\n    cron: "0 0 30 2 *"', 'triggers.0.cron', /never fires/],
    ['  - id: a\n    type: schedule\n    cron: "0 2 * * *"\n    timezone: Mars/Olympus', 'triggers.0.timezone', /IANA/],
    ['  - id: a\n    type: schedule\n    cron: "0 2 * * *"\n    catch_up: sometimes', 'triggers.0.catch_up', /./],
    ['  - id: a\n    type: webhook\n  - id: a\n    type: webhook', 'triggers.1.id', /unique/],
    ['  - id: a\n    type: email', 'triggers.0.type', /unknown trigger type/],
    ['  - id: a\n    type: webhook\n    secret: hunter2-literal', 'triggers.0.secret', /secrets\.NAME/],
    ['  - id: "bad id"\n    type: webhook', 'triggers.0.id', /./],
    ['  - id: a\n    type: webhook\n    cron: "* * * * *"', 'triggers.0.cron', /./]
  ]
  for (const [yaml, field, reason] of cases) {
    const res = await fr.request('POST', '/api/v1/flows', { token: fr.admin.token, body: { definition: echoFlow(yaml) } })
    t.equal(res.statusCode, 422, `${field}: ${res.body}`)
    const details = (res.json() as { error: { details: { field: string; reason: string; line?: number } } }).error.details
    t.equal(details.field, field)
    t.match(details.reason, reason)
    t.type(details.line, 'number', 'the problem is located in the YAML')
  }
  t.equal((await fr.sql<{ n: number }>('SELECT count(*)::int AS n FROM flow_triggers'))[0]?.n, 0, 'nothing refused was stored')
})

eachBackend('triggers: listed, paused, resumed, kept across versions, gone with the flow', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  const other = await fr.createUser()
  const schedule = `  - id: nightly
    type: schedule
    cron: "0 2 * * *"
    timezone: Europe/Paris
    catch_up: all
    input: {mode: nightly}`
  const flowId = await createFlow(fr, user.token, echoFlow(`${schedule}\n${HOOK}`))
  const listed = await triggersOf(fr, user.token, flowId)
  t.same(
    listed.map((x) => [x.id, x.type, x.enabled, x.cron, x.timezone, x.catch_up]),
    [
      ['nightly', 'schedule', true, '0 2 * * *', 'Europe/Paris', 'all'],
      ['intake', 'webhook', true, null, null, null]
    ]
  )
  const nightly = listed[0] as TriggerReply
  const next = new Date(nightly.next_fire_at ?? '')
  t.ok(next.getTime() > Date.now(), 'the next tick is ahead')
  t.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next), '02:00')
  const url = listed[1]?.url ?? ''
  t.match(url, /^\/api\/v1\/hooks\/hook_[A-Za-z0-9_-]{32}$/, 'an unguessable hook id')
  t.notMatch(url, flowId, 'not derived from the flow id')
  t.equal(nightly.url, null)

  t.equal((await fr.request('GET', `/api/v1/flows/${flowId}/triggers`, { token: other.token })).statusCode, 404, "another account's flow does not exist")
  t.equal((await fr.request('GET', `/api/v1/flows/${flowId}/triggers`)).statusCode, 401)
  t.equal((await triggersOf(fr, fr.admin.token, flowId)).length, 2, 'an admin sees them')

  const paused = await fr.request('PATCH', `/api/v1/flows/${flowId}/triggers/intake`, { token: user.token, body: { enabled: false } })
  t.equal(paused.statusCode, 200, paused.body)
  t.equal((paused.json() as TriggerReply).enabled, false)
  t.equal((await post(fr, url, '{}')).statusCode, 404, 'a paused webhook is 404')
  const pausedSchedule = await fr.request('PATCH', `/api/v1/flows/${flowId}/triggers/nightly`, { token: user.token, body: { enabled: false } })
  t.equal((pausedSchedule.json() as TriggerReply).next_fire_at, null, 'a paused schedule has no next tick')
  t.equal((await fr.request('PATCH', `/api/v1/flows/${flowId}/triggers/nope`, { token: user.token, body: { enabled: false } })).statusCode, 404)
  t.equal((await fr.request('PATCH', `/api/v1/flows/${flowId}/triggers/intake`, { token: user.token, body: { enabled: 'no' } })).statusCode, 400)

  // a new version: the webhook keeps its URL and stays paused; a trigger no longer defined goes
  const updated = await fr.request('PUT', `/api/v1/flows/${flowId}`, { token: user.token, body: { definition: echoFlow(HOOK) } })
  t.equal(updated.statusCode, 200, updated.body)
  const after = await triggersOf(fr, user.token, flowId)
  t.same(after.map((x) => [x.id, x.enabled, x.url]), [['intake', false, url]])

  const resumed = await fr.request('PATCH', `/api/v1/flows/${flowId}/triggers/intake`, { token: user.token, body: { enabled: true } })
  t.equal((resumed.json() as TriggerReply).enabled, true)
  t.equal((await post(fr, url, '{}')).statusCode, 202, 'resumed')

  // rotate: a new URL, the old one 404s
  const rotated = await fr.request('POST', `/api/v1/flows/${flowId}/triggers/intake/rotate`, { token: user.token })
  t.equal(rotated.statusCode, 200, rotated.body)
  const newUrl = (rotated.json() as TriggerReply).url ?? ''
  t.not(newUrl, url)
  t.equal((await post(fr, url, '{}')).statusCode, 404, 'the old URL is gone')
  t.equal((await post(fr, newUrl, '{}')).statusCode, 202, 'the new one works')
  const scheduleOnly = await createFlow(fr, user.token, echoFlow(schedule))
  t.equal((await fr.request('POST', `/api/v1/flows/${scheduleOnly}/triggers/nightly/rotate`, { token: user.token })).statusCode, 400, 'a schedule has no URL')

  t.equal((await fr.request('DELETE', `/api/v1/flows/${flowId}`, { token: user.token })).statusCode, 200)
  t.equal((await post(fr, newUrl, '{}')).statusCode, 404, "a deleted flow's webhook is 404")
  t.equal((await fr.sql<{ n: number }>('SELECT count(*)::int AS n FROM flow_triggers WHERE flow_id = $1', [flowId]))[0]?.n, 0)

  // `enabled: false` in the definition: created paused
  const quiet = await createFlow(fr, user.token, echoFlow(`${schedule}\n    enabled: false`))
  t.same((await triggersOf(fr, user.token, quiet)).map((x) => [x.enabled, x.next_fire_at]), [[false, null]])
})

eachBackend('webhooks: input, trigger, signatures, limits', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_MAX_INPUT_BYTES: '2048' } })
  const user = await fr.createUser()
  const flowId = await createFlow(fr, user.token, echoFlow(HOOK))
  const url = await hookUrl(fr, user.token, flowId)

  const res = await post(fr, `${url}?source=crm&n=2`, '{"asset": "A-1"}', { 'user-agent': 'crm/1.0', 'x-request-id': 'req-9', cookie: 'session=abc', authorization: 'Bearer nope' })
  t.equal(res.statusCode, 202, res.body)
  const reply = res.json() as { execution_id: string; flow_id: string; status: string; created_at: string }
  t.equal(reply.flow_id, flowId)
  t.match(reply, { status: /queued|running/, created_at: /^\d{4}-/ })
  const done = await waitFinal(fr, user.token, reply.execution_id)
  t.equal(done.status, 'completed')
  const input = { body: { asset: 'A-1' }, headers: { 'content-type': 'application/json', 'user-agent': 'crm/1.0', 'x-request-id': 'req-9' }, query: { source: 'crm', n: '2' } }
  t.same((done as { input: unknown }).input, input, 'body, allow-listed headers (no cookie, no authorization) and query')
  t.same((done as { result: unknown }).result, { trigger: { type: 'webhook', id: 'intake' }, input }, 'expressions see execution.trigger')
  t.same((await getExecution(fr, user.token, reply.execution_id) as { trigger: unknown }).trigger, { type: 'webhook', id: 'intake' })
  const listed = (await triggersOf(fr, user.token, flowId))[0] as TriggerReply
  t.equal(listed.last_execution_id, reply.execution_id)
  t.ok(listed.last_fire_at !== null)

  t.equal((await post(fr, url, '{"a":')).statusCode, 400, 'malformed JSON')
  t.equal((await post(fr, url, JSON.stringify({ pad: 'x'.repeat(3000) }))).statusCode, 413, 'past the body limit')
  const text = await fr.app.inject({ method: 'POST', url, payload: 'hello', headers: { 'content-type': 'text/plain' } })
  t.equal(text.statusCode, 415, 'JSON only')
  t.equal((await post(fr, '/api/v1/hooks/hook_doesnotexist', '{}')).statusCode, 404)

  // API runs record no trigger
  const run = await fr.request('POST', `/api/v1/flows/${flowId}/run`, { token: user.token, body: { input: {} } })
  t.equal((await getExecution(fr, user.token, (run.json() as { execution_id: string }).execution_id) as { trigger: unknown }).trigger, null)
})

eachBackend('webhooks: past the rate, 429 with Retry-After', async (t, backend) => {
  // one a second (a burst of one): of 10 at once, all but the one admitted plus one a second of the burst's own
  // duration are refused, so a machine slowed by parallel tests still sees most refused
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_HOOK_RATE_LIMIT: '1' } })
  const user = await fr.createUser()
  const url = await hookUrl(fr, user.token, await createFlow(fr, user.token, echoFlow(HOOK)))
  const burst = await Promise.all(Array.from({ length: 10 }, () => post(fr, url, '{}')))
  const limited = burst.filter((r) => r.statusCode === 429)
  t.ok(limited.length >= 4, `${limited.length} of 10 refused`)
  t.match(limited[0]?.headers['retry-after'], /^\d+$/)
  t.equal((limited[0]?.json() as { error: { code: string } }).error.code, 'rate_limited')
})

eachBackend('webhooks: a signing secret refuses what it did not sign', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend, env: { METRICS_TOKEN, FLOWRUNNER_HOOK_RATE_LIMIT: '4' } })
  const user = await fr.createUser()
  await setSecret(fr, user, 'INTAKE_KEY', 'intake-signing-key-0123456789')
  const flowId = await createFlow(fr, user.token, echoFlow(`${HOOK}\n    secret: "\${secrets.INTAKE_KEY}"`))
  const url = await hookUrl(fr, user.token, flowId)
  const body = '{"asset":"A-2"}'
  const refused = [
    await post(fr, url, body),
    await post(fr, url, body, { 'x-flowrunner-signature': signBody('another-key-0123456789', body) }),
    await post(fr, url, body, { 'x-flowrunner-signature': signBody('intake-signing-key-0123456789', '{"asset":"A-3"}') }),
    await post(fr, url, body, { 'x-flowrunner-signature': 'sha256=zz' })
  ]
  for (const r of refused) {
    t.equal(r.statusCode, 401)
    t.equal((r.json() as { error: { code: string } }).error.code, 'invalid_signature')
    t.notMatch(r.body, 'intake-signing-key', 'the secret is not in the reply')
  }
  t.equal(await executionCount(fr, flowId), 0, 'a bad signature starts nothing')
  // a flood of unsigned requests is cut off on a bucket of its own: the signed sender is not starved
  const flood = await Promise.all(Array.from({ length: 8 }, () => post(fr, url, body)))
  t.ok(flood.some((r) => r.statusCode === 429), 'refused requests are rate limited too')
  t.ok(flood.every((r) => r.statusCode === 429 || r.statusCode === 401))
  const signed = await post(fr, url, body, { 'x-flowrunner-signature': signBody('intake-signing-key-0123456789', body) })
  t.equal(signed.statusCode, 202, signed.body)
  t.equal(await executionCount(fr, flowId), 1)
  // the secret deleted: nothing can be verified, so nothing starts (on a rotated URL: its buckets are new)
  const rotated = await fr.request('POST', `/api/v1/flows/${flowId}/triggers/intake/rotate`, { token: user.token })
  const fresh = (rotated.json() as TriggerReply).url ?? ''
  t.equal((await fr.request('DELETE', `/api/v1/accounts/${user.id}/secrets/INTAKE_KEY`, { token: user.token })).statusCode, 200)
  t.equal((await post(fr, fresh, body, { 'x-flowrunner-signature': signBody('intake-signing-key-0123456789', body) })).statusCode, 401)
  const flooded401 = flood.filter((r) => r.statusCode === 401).length
  t.equal(await metric(fr, 'flowrunner_webhook_requests_total', { outcome: 'bad_signature' }), 4 + flooded401 + 1)
  t.equal(await metric(fr, 'flowrunner_webhook_requests_total', { outcome: 'rate_limited' }), 8 - flooded401)
  t.equal(await metric(fr, 'flowrunner_webhook_requests_total', { outcome: 'started' }), 1)
})

eachBackend('idempotency keys: one execution per key and flow, replayed as the first reply', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser()
  const flowId = await createFlow(fr, user.token, echoFlow(HOOK))
  const url = await hookUrl(fr, user.token, flowId)

  const first = await post(fr, url, '{"a":1,"b":2}', { 'idempotency-key': 'order-1' })
  t.equal(first.statusCode, 202)
  t.notOk(first.headers['idempotent-replayed'])
  const again = await post(fr, url, '{"b":2,"a":1}', { 'idempotency-key': 'order-1', 'user-agent': 'retry' })
  t.equal(again.statusCode, 202)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal((again.json() as { execution_id: string }).execution_id, (first.json() as { execution_id: string }).execution_id)
  const changed = await post(fr, url, '{"a":2}', { 'idempotency-key': 'order-1' })
  t.equal(changed.statusCode, 422)
  t.equal((changed.json() as { error: { code: string } }).error.code, 'idempotency_key_reused')
  t.equal((await post(fr, url, '{}', { 'idempotency-key': 'bad key with spaces' })).statusCode, 400)

  // concurrent requests with one key: one execution
  const together = await Promise.all(Array.from({ length: 20 }, () => post(fr, url, '{"n":1}', { 'idempotency-key': 'burst' })))
  t.same([...new Set(together.map((r) => r.statusCode))], [202])
  t.equal(new Set(together.map((r) => (r.json() as { execution_id: string }).execution_id)).size, 1)
  t.equal(together.filter((r) => r.headers['idempotent-replayed'] !== 'true').length, 1, 'one request created it')

  // POST /run too, per flow
  const run = (key: string, input: unknown) =>
    fr.request('POST', `/api/v1/flows/${flowId}/run`, { token: user.token, body: { input }, headers: { 'idempotency-key': key } })
  const r1 = await run('run-1', { x: 1 })
  const r2 = await run('run-1', { x: 1 })
  t.equal(r1.statusCode, 201)
  t.equal(r2.statusCode, 201)
  t.equal(r2.headers['idempotent-replayed'], 'true')
  t.equal((r2.json() as { execution_id: string }).execution_id, (r1.json() as { execution_id: string }).execution_id)
  t.equal((await run('run-1', { x: 2 })).statusCode, 422)
  const waited = await fr.request('POST', `/api/v1/flows/${flowId}/run?wait=5s`, { token: user.token, body: { input: { x: 1 } }, headers: { 'idempotency-key': 'run-1' } })
  t.equal(waited.statusCode, 200, 'with ?wait, the replay waits for the same execution')
  t.equal((waited.json() as { id: string }).id, (r1.json() as { execution_id: string }).execution_id)

  const otherFlow = await createFlow(fr, user.token, echoFlow(HOOK))
  const elsewhere = await fr.request('POST', `/api/v1/flows/${otherFlow}/run`, { token: user.token, body: { input: { x: 1 } }, headers: { 'idempotency-key': 'run-1' } })
  t.equal(elsewhere.statusCode, 201)
  t.notOk(elsewhere.headers['idempotent-replayed'], 'keys are per flow')

  // past 24 hours a key is new again
  await fr.sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'run-1' AND flow_id = $1", [flowId])
  const later = await run('run-1', { x: 2 })
  t.equal(later.statusCode, 201)
  t.notOk(later.headers['idempotent-replayed'])
})

eachBackend('schedules: each tick runs the current version with its input', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_POLL_MS: '200', METRICS_TOKEN } })
  const user = await fr.createUser()
  const flowId = await createFlow(fr, user.token, echoFlow('  - id: tick\n    type: schedule\n    cron: "* * * * * *"\n    input: {mode: nightly}'))
  const ticks = await new Promise<Array<{ id: string; tick: string }>>((resolve) => {
    const check = async (): Promise<void> => {
      const rows = await fr.sql<{ id: string; tick: string }>(
        "SELECT id, triggered_by->>'tick' AS tick FROM executions WHERE flow_id = $1 ORDER BY triggered_by->>'tick'",
        [flowId]
      )
      if (rows.length >= 3) resolve(rows)
      else setTimeout(() => void check(), 100)
    }
    void check()
  })
  t.equal(new Set(ticks.map((x) => x.tick)).size, ticks.length, 'no tick twice')
  for (const x of ticks) t.equal(new Date(x.tick).getUTCMilliseconds(), 0, 'ticks are whole seconds')
  const done = await waitFinal(fr, user.token, ticks[0]?.id ?? '')
  t.same((done as { result: unknown }).result, { trigger: { type: 'schedule', id: 'tick', tick: ticks[0]?.tick }, input: { mode: 'nightly' } })
  const listed = (await triggersOf(fr, user.token, flowId))[0] as TriggerReply
  t.ok(listed.last_execution_id !== null && new Date(listed.next_fire_at ?? 0).getTime() > new Date(listed.last_fire_at ?? 0).getTime())
  t.ok(((await metric(fr, 'flowrunner_schedule_ticks_total', { outcome: 'fired' })) ?? 0) >= 3, 'fired ticks are counted')
  // pausing stops it
  await fr.request('PATCH', `/api/v1/flows/${flowId}/triggers/tick`, { token: user.token, body: { enabled: false } })
  const count = await executionCount(fr, flowId)
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(await executionCount(fr, flowId), count, 'a paused schedule fires nothing')
})
