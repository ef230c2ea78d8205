import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import tap from 'tap'
import WebSocket from 'ws'
import { formatAuthProperties } from '../../src/evercycle/auth-properties.js'
import { tokenSetFrom } from '../../src/evercycle/tokens.js'
import type { EvercycleSimulator } from '../../dev/simulator/simulator.js'
import { createFlow, runFlow } from '../helpers/executions.js'
import { buildApp, buildFlowRunner, eachBackend, simpleDefinition } from '../helpers/flowrunner.js'
import { startSimulator, tempDir } from '../helpers/gateway.js'
import { BEARER, METRICS_TOKEN, sample } from './metrics-text.js'

async function scrape(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: BEARER })
  if (res.statusCode !== 200) throw new Error(`scrape failed: ${res.statusCode} ${res.body}`)
  return res.body
}

/** An auth.properties with real simulator tokens that the gateway finds already expired. */
async function expiredTokenFile(sim: EvercycleSimulator, dir: string): Promise<void> {
  const tokens = tokenSetFrom(sim.issueTokens(), undefined, Date.now() - 7200_000)
  sim.expireTokens()
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'auth.properties'), formatAuthProperties(tokens), { mode: 0o600 })
}

void tap.test('without METRICS_TOKEN or METRICS_PORT there is no /metrics (404)', async (t) => {
  const { app } = await buildApp(t)
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: BEARER })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { status: 'error', error: { code: 'not_found' } })
  t.equal(app.metricsListener, null)
})

void tap.test('METRICS_TOKEN: /metrics on the main port needs the Bearer token', async (t) => {
  const { app } = await buildApp(t, { env: { METRICS_TOKEN } })
  const missing = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(missing.statusCode, 401)
  t.match(missing.json(), { status: 'error', error: { code: 'unauthorized' } })
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="metrics"')
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: METRICS_TOKEN } })).statusCode, 401, 'the Bearer scheme is required')
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { 'x-api-key': METRICS_TOKEN } })).statusCode, 401, 'not an API key header')

  const ok = await app.inject({ method: 'GET', url: '/metrics', headers: BEARER })
  t.equal(ok.statusCode, 200)
  t.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(ok.body, /# TYPE http_request_duration_seconds histogram/)
  t.match(ok.body, /# TYPE process_resident_memory_bytes gauge/, 'process metrics are included')
})

void tap.test('METRICS_PORT: a second listener serves /metrics only, and closes with the app', async (t) => {
  const { app } = await buildApp(t, { env: { METRICS_PORT: '0', METRICS_TOKEN } })
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: BEARER })).statusCode, 404, 'never on the main port then')
  const port = app.metricsListener?.port
  t.ok(port !== undefined && port > 0)
  const base = `http://127.0.0.1:${String(port)}`

  const refused = await fetch(`${base}/metrics`)
  t.equal(refused.status, 401, 'the token is required on the metrics port too when set')
  t.equal(((await refused.json()) as { error: { code: string } }).error.code, 'unauthorized')
  const res = await fetch(`${base}/metrics`, { headers: BEARER })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain/)
  t.match(await res.text(), /http_request_duration_seconds/)
  t.equal((await fetch(`${base}/api/health`)).status, 404, 'nothing else is served there')
  t.equal((await fetch(`${base}/metrics`, { method: 'POST', headers: BEARER })).status, 405)

  await app.close()
  await t.rejects(fetch(`${base}/metrics`, { headers: BEARER }), 'the listener is gone after close')
})

void tap.test('METRICS_PORT without a token serves the scraper unauthenticated', async (t) => {
  const { app } = await buildApp(t, { env: { METRICS_PORT: '0' } })
  const res = await fetch(`http://127.0.0.1:${String(app.metricsListener?.port)}/metrics`)
  t.equal(res.status, 200)
  await res.text()
})

void tap.test('requests are counted by route pattern and status, never by raw URL', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildApp(t, { sim, env: { METRICS_TOKEN } })
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: `/api/get-all?page=${i}` })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/api/get-asset-id?id=123' })).statusCode, 404, 'no such asset upstream')
  t.equal((await app.inject({ method: 'GET', url: '/api/no-such-operation-xyz' })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/get-all' })).statusCode, 405)

  const text = await scrape(app)
  const count = (labels: Record<string, string>): number | undefined => sample(text, 'http_request_duration_seconds_count', labels)
  t.equal(count({ method: 'GET', route: '/api/get-all', status_code: '200' }), 3)
  t.equal(count({ method: 'GET', route: '/api/get-asset-id', status_code: '404' }), 1)
  t.equal(count({ method: 'DELETE', route: '/api/get-all', status_code: '405' }), 1)
  t.equal(count({ method: 'GET', route: 'unmatched', status_code: '404' }), 1)
  t.notMatch(text, /no-such-operation-xyz/, 'an unmatched URL does not become a label')
  t.notMatch(text, /page=/, 'query strings never become labels')
  t.ok((sample(text, 'http_request_duration_seconds_bucket', { method: 'GET', route: '/api/get-all', status_code: '200', le: '+Inf' }) ?? 0) === 3)
})

void tap.test('upstream calls by operation and status; token refreshes, sign-ins and single-flight waiters', async (t) => {
  const sim = await startSimulator(t)
  const dir = await tempDir(t)
  await expiredTokenFile(sim, dir)
  const { app } = await buildApp(t, { sim, dir, env: { METRICS_TOKEN } })
  sim.reset()

  // distinct queries: identical concurrent GETs would share one upstream call
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => app.inject({ method: 'GET', url: `/api/get-all?n=${i}` })))
  t.same(new Set(replies.map((r) => r.statusCode)), new Set([200]))
  t.equal(sim.counts.refreshes, 1)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth', payload: { username: 'x@example.com', password: 'wrong' } })).statusCode, 401)

  const text = await scrape(app)
  const upstream = (labels: Record<string, string>): number | undefined => sample(text, 'evercycle_upstream_request_duration_seconds_count', labels)
  t.equal(upstream({ operation: 'get-all', status: '200' }), 50)
  t.equal(upstream({ operation: 'auth.refresh', status: '200' }), 1)
  t.equal(upstream({ operation: 'auth.signin', status: '401' }), 1)
  t.ok((sample(text, 'evercycle_upstream_request_duration_seconds_sum', { operation: 'get-all', status: '200' }) ?? -1) > 0, 'latency is recorded')
  t.equal(sample(text, 'evercycle_token_refreshes_total', { result: 'ok' }), 1)
  t.equal(sample(text, 'evercycle_token_refreshes_total', { result: 'failed' }), 0)
  t.equal(sample(text, 'evercycle_token_signins_total', { result: 'ok' }), 0)
  t.equal(sample(text, 'evercycle_token_signins_total', { result: 'failed' }), 1)
  const waiters = sample(text, 'evercycle_token_singleflight_waiters_total') ?? 0
  t.ok(waiters >= 1 && waiters <= 49, `callers at expiry waited for the one refresh (${waiters})`)

  // a counter only grows between scrapes
  await app.inject({ method: 'GET', url: '/api/get-all' })
  const again = await scrape(app)
  t.equal(sample(again, 'evercycle_upstream_request_duration_seconds_count', { operation: 'get-all', status: '200' }), 51)
  t.equal(sample(again, 'evercycle_token_singleflight_waiters_total'), waiters)
})

void tap.test('a service sign-in counts as ok; an unreachable Evercycle as an error outcome', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildApp(t, { sim, env: { METRICS_TOKEN } })
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  await sim.close()
  const down = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(down.statusCode, 502)
  const text = await scrape(app)
  t.equal(sample(text, 'evercycle_token_signins_total', { result: 'ok' }), 1)
  t.equal(sample(text, 'evercycle_upstream_request_duration_seconds_count', { operation: 'get-all', status: 'upstream_unavailable' }), 1)
})

eachBackend('FlowRunner metrics: executions, queue backlog and age, WebSocket subscribers', async (t, backend) => {
  const fr = await buildFlowRunner(t, { backend, env: { METRICS_TOKEN } })
  // no worker takes jobs, so the run's first step stays in the queue
  await fr.app.engine.stop()
  const before = await scrape(fr.app)
  t.equal(sample(before, 'flowrunner_queue_jobs', { state: 'waiting' }), 0)
  t.equal(sample(before, 'flowrunner_queue_oldest_waiting_seconds'), 0)
  t.equal(sample(before, 'flowrunner_executions', { status: 'running' }), 0)

  const flowId = await createFlow(fr, fr.admin.token, simpleDefinition())
  const executionId = await runFlow(fr, fr.admin.token, flowId)
  const text = await scrape(fr.app)
  t.equal(sample(text, 'flowrunner_executions', { status: 'running' }), 1)
  t.equal(sample(text, 'flowrunner_executions', { status: 'queued' }), 0)
  t.equal(sample(text, 'flowrunner_executions_total', { event: 'started' }), 1)
  t.equal(sample(text, 'flowrunner_executions_total', { event: 'completed' }), 0)
  t.equal(sample(text, 'flowrunner_queue_jobs', { state: 'waiting' }), 1)
  t.equal(sample(text, 'flowrunner_queue_jobs', { state: 'active' }), 0)
  t.ok((sample(text, 'flowrunner_queue_oldest_waiting_seconds') ?? -1) >= 0)
  t.equal(sample(text, 'flowrunner_engine_busy_steps'), 0)
  t.equal(sample(text, 'flowrunner_websocket_subscribers'), 0)

  const address = await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const ws = new WebSocket(`${address.replace(/^http/, 'ws')}/ws/executions/${executionId}?token=${fr.admin.token}`)
  // the server subscribes before it sends the first message
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve())
    ws.once('error', reject)
  })
  t.equal(sample(await scrape(fr.app), 'flowrunner_websocket_subscribers'), 1)
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  ws.close()
  await closed
  // the server sees the close frame after the client; wait for its unsubscribe, however long that takes
  while (fr.app.executionEvents.subscriberCount() > 0) await new Promise((r) => setTimeout(r, 10))
  t.equal(sample(await scrape(fr.app), 'flowrunner_websocket_subscribers'), 0)
})
