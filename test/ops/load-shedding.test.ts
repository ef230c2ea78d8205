import type { FastifyInstance } from 'fastify'
import tap from 'tap'
import { load } from '../../src/config.js'
import { buildApp } from '../helpers/flowrunner.js'
import { startSimulator } from '../helpers/gateway.js'
import { BEARER, METRICS_TOKEN, sample } from './metrics-text.js'

/** Waits for the pressure sampler's next pass, however long a loaded machine makes it (no deadline here). */
async function underPressure(app: FastifyInstance): Promise<void> {
  while (!app.isUnderPressure()) await new Promise((r) => setTimeout(r, 10))
}

void tap.test('past a limit (heap 1 byte): 503 overloaded with Retry-After; health, readiness and metrics still answer', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildApp(t, {
    sim,
    env: { METRICS_TOKEN, MAX_HEAP_USED_BYTES: '1', PRESSURE_SAMPLE_INTERVAL_MS: '10', PRESSURE_RETRY_AFTER_SECONDS: '7' }
  })
  await underPressure(app)
  sim.reset()

  const gateway = await app.inject({ method: 'GET', url: '/api/get-all' })
  t.equal(gateway.statusCode, 503)
  t.equal(gateway.headers['retry-after'], '7')
  t.same(gateway.json(), {
    status: 'error',
    message: 'The server is overloaded: try again shortly',
    error: { code: 'overloaded', message: 'The server is overloaded: try again shortly', details: { retry_after_seconds: 7 } }
  })
  t.equal(sim.calls.length, 0, 'nothing reached Evercycle')

  // refused before authentication: shedding comes first, so an overload costs no token check or query
  const flowRunner = await app.inject({ method: 'GET', url: '/api/v1/flows' })
  t.equal(flowRunner.statusCode, 503)
  t.equal(flowRunner.headers['retry-after'], '7')
  t.same(flowRunner.json(), {
    error: { code: 'overloaded', message: 'The server is overloaded: try again shortly', details: { retry_after_seconds: 7 } }
  }, 'FlowRunner answers in its own error shape')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth', payload: { username: 'a@b.c', password: 'x' } })).statusCode, 503)

  for (const url of ['/health', '/api/health']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, `${url} stays up: liveness must not restart a busy replica`)
  }

  const ready = await app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(ready.statusCode, 503, 'readiness fails so Caddy sends traffic elsewhere')
  t.equal(ready.headers['retry-after'], '7')
  t.same(ready.json(), { status: 'unavailable', message: 'The server is overloaded' })
  t.equal(sim.calls.length, 0, 'readiness did not touch Evercycle either')

  const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: BEARER })
  t.equal(metrics.statusCode, 200, 'metrics are readable under pressure')
  t.equal(sample(metrics.body, 'gateway_under_pressure'), 1)
  t.equal(sample(metrics.body, 'gateway_load_shed_total', { reason: 'heapUsedBytes' }), 3)
  t.equal(sample(metrics.body, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/get-all', status_code: '503' }), 1)
})

void tap.test('within the limits nothing is shed, and a limit of 0 is off', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildApp(t, {
    sim,
    env: { METRICS_TOKEN, MAX_EVENT_LOOP_DELAY_MS: '0', MAX_HEAP_USED_BYTES: '0', PRESSURE_SAMPLE_INTERVAL_MS: '10' }
  })
  t.equal(app.isUnderPressure(), false)
  t.equal((await app.inject({ method: 'GET', url: '/api/get-all' })).statusCode, 200)
  const ready = await app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().status, 'ready')
  const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: BEARER })
  t.equal(sample(metrics.body, 'gateway_under_pressure'), 0)
  t.equal(sample(metrics.body, 'gateway_load_shed_total', { reason: 'heapUsedBytes' }), undefined)
})

void tap.test('the event-loop delay limit is on by default in production only', async (t) => {
  t.equal(load({ NODE_ENV: 'production' }).loadShedding.maxEventLoopDelayMs, 1000)
  t.equal(load({}).loadShedding.maxEventLoopDelayMs, 0, 'a loaded dev or CI machine is not an overloaded replica')
  t.equal(load({ NODE_ENV: 'production', MAX_EVENT_LOOP_DELAY_MS: '0' }).loadShedding.maxEventLoopDelayMs, 0)
  t.equal(load({ MAX_EVENT_LOOP_DELAY_MS: '250' }).loadShedding.maxEventLoopDelayMs, 250)
  t.throws(() => load({ MAX_HEAP_USED_BYTES: '-1' }), /MAX_HEAP_USED_BYTES/)
})
