import { createFlow, runFlow, runToEnd, setSecret, waitFinal, watch, type Watch } from '../helpers/executions.js'
import { buildFlowRunner, eachBackend } from '../helpers/flowrunner.js'
import { LogCapture } from '../helpers/gateway.js'
import { startReceiver } from '../helpers/receiver.js'

const API_KEY = 'sk-live-4f9a8b7c6d5e3a21'
/** Characters that change under URL and JSON encoding: the encoded forms must not leak either. */
const ODD = 'p@ss w0rd/+&="q"'

/** The secret as written, and as it appears percent-encoded, form-encoded or inside a JSON string. */
function forms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), new URLSearchParams({ x: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)])]
}

eachBackend('secret values never leave the engine unmasked', async (t, backend) => {
  const receiver = await startReceiver(t)
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` } })
  const address = await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const user = await fr.createUser('masking')
  await setSecret(fr, user, 'API_KEY', API_KEY)
  await setSecret(fr, user, 'ODD', ODD)
  const base = receiver.url

  // the first node waits on a gate, so the socket is open before anything secret happens
  let open: () => void = () => undefined
  receiver.on('/gate', { until: new Promise<void>((resolve) => (open = resolve)), body: {} })
  receiver.on('/echo', { echo: true })
  const flowId = await createFlow(fr, user.token, `
metadata: { name: uses secrets }
nodes:
  start:
    type: http.request
    params: { url: "${base}/gate" }
    next: { default: echo }
  echo:
    type: http.request
    params:
      url: "${base}/echo"
      method: POST
      headers:
        x-api-key: "\${secrets.API_KEY}"
        authorization: "Bearer \${secrets.API_KEY}"
      query: { key: "\${secrets.API_KEY}", odd: "\${secrets.ODD}" }
      body: { odd: "\${secrets.ODD}", note: "key=\${secrets.API_KEY}" }
    next: { default: shape }
  shape:
    type: transform
    params:
      expression: >-
        {"key": secrets.API_KEY, "odd": secrets.ODD, "both": secrets.API_KEY & "/" & secrets.ODD,
         "echoed": nodes.echo.body.headers."x-api-key", "query": nodes.echo.body.query}
`)
  const id = await runFlow(fr, user.token, flowId)
  await receiver.arrival('/gate')
  const live = await watch(address, id, user.token)
  open()
  t.same(await live.closed, { code: 1000, reason: 'execution finished' })
  const done = await waitFinal(fr, user.token, id)
  t.equal(done.status, 'completed')

  // the receiver really got the secrets: masking is about what the engine writes, not what it sends
  const [echo] = receiver.to('/echo')
  t.equal(echo?.headers['x-api-key'], API_KEY)
  t.same(Object.fromEntries(new URLSearchParams(echo?.query)), { key: API_KEY, odd: ODD })
  t.same(JSON.parse(echo?.body ?? ''), { odd: ODD, note: `key=${API_KEY}` })

  const result = done.result as Record<string, string>
  t.equal(result.key, '***')
  t.equal(result.odd, '***')
  t.equal(result.both, '***/***')
  t.equal(result.echoed, '***')

  // an error that quotes a secret, failing the execution; and the same error read through an error edge
  const failed = await runToEnd(fr, user.token, `
metadata: { name: error with a secret }
nodes:
  start:
    type: transform
    params: { expression: '$error("rejected key " & secrets.API_KEY)' }
`)
  t.equal(failed.status, 'failed')
  t.match(failed.error, /rejected key \*\*\*$/)
  const late = await watch(address, failed.id, user.token)
  await late.closed
  t.match(late.messages.at(-1), { type: 'execution_failed', error: failed.error })

  const caught = await runToEnd(fr, user.token, `
metadata: { name: caught secret error }
nodes:
  start:
    type: transform
    params: { expression: '$error("bad " & secrets.ODD)' }
    next: { error: after }
  after:
    type: transform
    params: { expression: '{"caught": nodes.start.error}' }
`)
  t.equal(caught.status, 'completed')
  t.match((caught.result as { caught: string }).caught, /bad \*\*\*$/)

  const everything: Array<[string, string]> = []
  for (const e of [done, failed, caught]) {
    everything.push([`GET execution ${e.id}`, JSON.stringify(e)])
    everything.push([`logs of ${e.id}`, (await fr.request('GET', `/api/v1/executions/${e.id}/logs?level=debug&limit=100`, { token: user.token })).body])
  }
  everything.push(['execution list', (await fr.request('GET', '/api/v1/executions?limit=100', { token: user.token })).body])
  everything.push(['WebSocket frames', (live as Watch).frames.join('\n') + late.frames.join('\n')])
  everything.push(['stored rows', JSON.stringify(await fr.sql('SELECT nodes::text, result::text, error FROM executions'))])
  everything.push(['stored logs', JSON.stringify(await fr.sql('SELECT message, data::text FROM execution_logs'))])
  everything.push(['server log', logs.text])
  for (const [where, text] of everything) {
    for (const form of [...forms(API_KEY), ...forms(ODD)]) t.notOk(text.includes(form), `${JSON.stringify(form)} absent from ${where}`)
  }
  t.ok(everything.find(([w]) => w === 'WebSocket frames')?.[1].includes('***'), 'the frames show the mask')
  t.ok(everything.find(([w]) => w === `logs of ${done.id}`)?.[1].includes('***'), 'the logs show the mask')
  t.ok(logs.lines.length > 0, 'the server did log (at trace)')
})

/** A secret with characters the WHATWG URL parser leaves as they are in a query (`|^{}`) and one it encodes (space). */
const PW = 'Pa ss|word^42{x}'
const TOKEN = 'tok-deep-0123456789'

/** How `new URL()` writes a value in a query, a path and a fragment: what `url.href` (and so a logged URL) shows. */
function urlForms(secret: string): string[] {
  return [new URL(`http://x/?k=${secret}`).search.slice(3), new URL(`http://x/${secret}`).pathname.slice(1), new URL(`http://x/#${secret}`).hash.slice(1)]
}

eachBackend('masking has no depth cut-off, and a URL is masked as the URL parser writes it', async (t, backend) => {
  const receiver = await startReceiver(t)
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` } })
  const address = await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const user = await fr.createUser('deep-masking')
  await setSecret(fr, user, 'TOKEN', TOKEN)
  await setSecret(fr, user, 'PW', PW)
  const base = receiver.url

  let open: () => void = () => undefined
  receiver.on('/gate', { until: new Promise<void>((resolve) => (open = resolve)), body: {} })
  receiver.on('/path', { echo: true })
  receiver.on('/missing', { status: 404, body: { message: 'no such thing' } })
  const flowId = await createFlow(fr, user.token, `
metadata: { name: deep and url secrets }
nodes:
  start:
    type: http.request
    params: { url: "${base}/gate" }
    next: { default: deep }
  deep:
    type: transform
    params: { expression: '$reduce([1..102], function($a, $i) { {"a": $a} }, secrets.TOKEN)' }
    next: { default: url }
  url:
    type: http.request
    params: { url: "${base}/path?key=\${secrets.PW}" }
    next: { default: missing }
  missing:
    type: http.request
    params: { url: "${base}/missing?key=\${secrets.PW}" }
    next: { error: last }
  last:
    type: transform
    params: { expression: '{"deep": nodes.deep, "query": nodes.url.body.query}' }
`)
  const id = await runFlow(fr, user.token, flowId)
  await receiver.arrival('/gate')
  const live = await watch(address, id, user.token)
  open()
  await live.closed
  const done = await waitFinal(fr, user.token, id)
  t.equal(done.status, 'completed')

  // the receiver got the secret as the URL parser wrote it
  t.equal(receiver.to('/path')[0]?.query, `key=${urlForms(PW)[0]}`)

  let deep: unknown = (done.result as { deep: unknown }).deep
  for (let depth = 0; depth < 102; depth++) deep = (deep as { a: unknown }).a
  t.equal(deep, '***', 'masked 102 levels down')
  t.equal((done.result as { query: string }).query, 'key=***')

  const lines = (await fr.request('GET', `/api/v1/executions/${id}/logs?level=debug&limit=100`, { token: user.token })).json().logs as Array<{ message: string; node_id: string; data: { url?: string } }>
  t.equal(lines.find((l) => l.message === 'Node completed' && l.node_id === 'url')?.data.url, `${base}/path?key=***`, 'the logged URL shows the mask')
  t.equal(lines.find((l) => l.message === 'Node failed' && l.node_id === 'missing')?.data.url, `${base}/missing?key=***`)

  const everything: Array<[string, string]> = [
    ['execution', JSON.stringify(done)],
    ['logs', JSON.stringify(lines)],
    ['WebSocket frames', live.frames.join('\n')],
    ['stored rows', JSON.stringify(await fr.sql('SELECT nodes::text, result::text, error FROM executions'))],
    ['stored logs', JSON.stringify(await fr.sql('SELECT message, data::text FROM execution_logs'))],
    ['server log', logs.text]
  ]
  for (const [where, text] of everything) {
    for (const form of new Set([...forms(TOKEN), ...forms(PW), ...urlForms(PW)])) t.notOk(text.includes(form), `${JSON.stringify(form)} absent from ${where}`)
  }
})

eachBackend('a secret shorter than 8 characters is refused at creation (422)', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser('short-secret')
  const base = `/api/v1/accounts/${user.id}/secrets`
  for (const value of ['a', 'abc', 'seven77']) {
    const res = await fr.request('POST', base, { token: user.token, body: { key: 'SHORT', value } })
    t.equal(res.statusCode, 422, value)
    t.same(res.json(), { error: { code: 'validation_error', message: 'A secret value must be at least 8 characters', details: { field: 'value', reason: 'must be at least 8 characters' } } })
  }
  t.same((await fr.request('GET', base, { token: user.token })).json(), { secrets: [] }, 'nothing was stored')
  t.equal((await fr.request('POST', base, { token: user.token, body: { key: 'EIGHT', value: 'eight888' } })).statusCode, 201)
})
