import { setTimeout as pause } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { buildGateway, LogCapture, startSimulator } from '../helpers/gateway.js'

let calls = 0
/** A GET no other call shares (identical concurrent GETs are coalesced into one upstream call). */
const getAll = (app: FastifyInstance): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url: `/api/get-all?call=${++calls}` })
const code = (res: LightMyRequestResponse): string | undefined => (res.json() as { error?: { code: string } }).error?.code

/** Polls until `ok` (the breaker's cooldown, a 429's pause): waits on the gateway's own state, bounded. */
async function until(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await pause(25)
  }
}

t.test('the breaker opens after consecutive failures, fails fast, lets exactly one probe through, and closes', async (t) => {
  const sim = await startSimulator(t)
  const logs = new LogCapture()
  const { app } = await buildGateway(t, { sim, logs, env: { UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_COOLDOWN_MS: '400' } })
  t.equal((await getAll(app)).statusCode, 200)
  sim.settings.bodyMode = 'error'
  for (let i = 0; i < 3; i++) t.equal((await getAll(app)).statusCode, 500, 'the upstream 500 is passed through while closed')
  const callsWhenOpened = sim.counts.apiCalls
  const open = await getAll(app)
  t.equal(open.statusCode, 503)
  t.equal(code(open), 'upstream_circuit_open')
  t.match(open.headers['retry-after'], /^\d+$/)
  t.equal(sim.counts.apiCalls, callsWhenOpened, 'failing fast: Evercycle sees nothing')
  const ready = await app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(ready.statusCode, 503, '/api/ready turns 503')
  t.match(ready.json(), { status: 'unavailable', message: /circuit breaker/ })

  // after the cooldown: one probe; the rest keep failing fast until it answers
  sim.settings.bodyMode = 'normal'
  sim.settings.latencyMs = 300
  await until('the cooldown', async () => (await app.inject({ method: 'GET', url: '/api/ready' })).statusCode === 200)
  const before = sim.counts.apiCalls
  const burst = await Promise.all(Array.from({ length: 10 }, () => getAll(app)))
  t.equal(sim.counts.apiCalls - before, 1, 'exactly one probe reached Evercycle')
  t.equal(burst.filter((r) => r.statusCode === 200).length, 1, 'the probe succeeded')
  t.equal(burst.filter((r) => code(r) === 'upstream_circuit_open').length, 9, 'the others failed fast')
  sim.settings.latencyMs = 0
  t.equal((await getAll(app)).statusCode, 200, 'closed again')
  const changes = logs.lines.filter((l) => l.includes('circuit breaker'))
  t.equal(changes.filter((l) => l.includes('opened')).length, 1, 'opening logged once')
  t.equal(changes.filter((l) => l.includes('"to":"closed"')).length, 1, 'closing logged once')
})

t.test('an upstream 429 with Retry-After pauses every caller for that long, answered 429 at once', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  t.equal((await getAll(app)).statusCode, 200)
  sim.answer429Next(1, '2')
  const limited = await getAll(app)
  const pausedAt = Date.now()
  t.equal(limited.statusCode, 429)
  t.equal(code(limited), 'upstream_rate_limited')
  t.equal(limited.headers['retry-after'], '2')
  const calls = sim.counts.apiCalls
  const during = await Promise.all(Array.from({ length: 5 }, () => getAll(app)))
  t.same([...new Set(during.map((r) => r.statusCode))], [429], 'calls during the pause are answered 429')
  t.ok(during.every((r) => Number(r.headers['retry-after']) >= 1))
  t.equal(sim.counts.apiCalls, calls, 'and never reach Evercycle')
  await until('the pause to end', async () => (await getAll(app)).statusCode === 200)
  t.ok(Date.now() - pausedAt >= 1900, 'not before the Retry-After')
})

t.test('the rate: a burst, then 503 upstream_busy for a call that would wait past the queue timeout', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { UPSTREAM_RATE_LIMIT: '4', UPSTREAM_QUEUE_TIMEOUT_MS: '0' } })
  const replies = await Promise.all(Array.from({ length: 6 }, () => getAll(app)))
  const busy = replies.filter((r) => r.statusCode === 503)
  t.equal(replies.filter((r) => r.statusCode === 200).length, 4, "the burst: one second's worth")
  t.equal(busy.length, 2)
  t.equal(code(busy[0] as LightMyRequestResponse), 'upstream_busy')
  t.match(busy[0]?.headers['retry-after'], /^\d+$/)
})

t.test('the rate with a queue timeout: callers wait their turn and Evercycle never sees more than the rate', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { UPSTREAM_RATE_LIMIT: '5', UPSTREAM_QUEUE_TIMEOUT_MS: '5000' } })
  t.equal((await getAll(app)).statusCode, 200)
  const first = Math.floor(Date.now() / 1000)
  const replies = await Promise.all(Array.from({ length: 16 }, () => getAll(app)))
  t.same([...new Set(replies.map((r) => r.statusCode))], [200], 'every call answered')
  // a token bucket lets the burst and the first second's refill through together; every second after that,
  // at most the rate
  const seconds = [...sim.callsPerSecond()].filter(([second]) => second >= first)
  t.ok(seconds.length >= 3, 'the calls were spread over seconds')
  for (const [second, n] of seconds) {
    t.ok(n <= (second === first ? 10 : 5), `${n} calls reached Evercycle in second ${second - first}`)
  }
})

t.test('concurrency: one call in flight; the next waits for its slot, or is busy past the queue timeout', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim, env: { UPSTREAM_MAX_CONCURRENCY: '1', UPSTREAM_QUEUE_TIMEOUT_MS: '100' } })
  t.equal((await getAll(app)).statusCode, 200)
  sim.settings.latencyMs = 400
  const [a, b] = await Promise.all([getAll(app), getAll(app)])
  t.same([a?.statusCode, b?.statusCode].sort(), [200, 503])
  sim.settings.latencyMs = 50
  const queued = await Promise.all([getAll(app), getAll(app)])
  t.same(queued.map((r) => r.statusCode), [200, 200], 'a wait shorter than the timeout is served')
})
