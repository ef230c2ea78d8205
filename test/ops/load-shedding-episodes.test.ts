import type { FastifyInstance } from 'fastify'
import tap from 'tap'
import { SheddingEpisodes } from '../../src/http/shedding-episodes.js'
import { buildApp } from '../helpers/flowrunner.js'
import { LogCapture, startSimulator } from '../helpers/gateway.js'

interface Line {
  level: number
  msg: string
  [key: string]: unknown
}

/** Waits for the pressure sampler's next pass, however long a loaded machine makes it (no deadline here). */
async function sampled(app: FastifyInstance): Promise<void> {
  while (!app.isUnderPressure()) await new Promise((r) => setTimeout(r, 10))
}

void tap.test('episodes: one line when shedding starts, one with the count when it stops', async (t) => {
  const lines: { obj: object; msg: string }[] = []
  const episodes = new SheddingEpisodes({ warn: (obj, msg) => lines.push({ obj, msg }) })
  episodes.end()
  t.same(lines, [], 'no episode, nothing to say')
  for (let i = 0; i < 3; i++) episodes.refuse('heapUsedBytes')
  episodes.refuse('rssBytes')
  t.ok(episodes.active)
  episodes.end()
  episodes.end()
  episodes.refuse('eventLoopDelay')
  episodes.end()
  t.same(lines, [
    { obj: { reason: 'heapUsedBytes' }, msg: 'shedding load: heapUsedBytes is over its limit' },
    { obj: { refused: 4, reasons: ['heapUsedBytes', 'rssBytes'] }, msg: 'stopped shedding: 4 requests refused' },
    { obj: { reason: 'eventLoopDelay' }, msg: 'shedding load: eventLoopDelay is over its limit' },
    { obj: { refused: 1, reasons: ['eventLoopDelay'] }, msg: 'stopped shedding: 1 request refused' }
  ])
  t.notOk(episodes.active)
})

void tap.test('shed requests log no line each and no stack: the episode is one line, its end one more with the count', async (t) => {
  const sim = await startSimulator(t)
  const logs = new LogCapture()
  const { app } = await buildApp(t, { sim, logs, env: { MAX_HEAP_USED_BYTES: '1', PRESSURE_SAMPLE_INTERVAL_MS: '10' } })
  await sampled(app)
  for (const url of ['/api/get-all', '/api/list', '/api/v1/flows']) t.equal((await app.inject({ method: 'GET', url })).statusCode, 503, url)
  // a heap of one byte never recovers: the episode ends with the server
  await app.close()

  const lines = logs.lines.map((l) => JSON.parse(l) as Line)
  const started = lines.filter((l) => l.msg.startsWith('shedding load'))
  const stopped = lines.filter((l) => l.msg.startsWith('stopped shedding'))
  t.equal(started.length, 1, 'one line when it starts')
  t.match(started[0], { level: 40, msg: 'shedding load: heapUsedBytes is over its limit', reason: 'heapUsedBytes' })
  t.equal(stopped.length, 1, 'one line when it ends')
  t.match(stopped[0], { level: 40, msg: 'stopped shedding: 3 requests refused', refused: 3, reasons: ['heapUsedBytes'] })
  const aboutOverload = lines.filter((l) => JSON.stringify(l).includes('overloaded'))
  t.same(aboutOverload.filter((l) => l.level >= 40), [], 'no warning per refused request')
  t.notOk(lines.some((l) => 'err' in l && JSON.stringify(l).includes('overloaded')), 'no error object, so no stack, for a refusal')
  t.notOk([...started, ...stopped, ...aboutOverload].some((l) => JSON.stringify(l).includes('"stack"')), 'no stack trace')
})

void tap.test("boot's own event-loop stall is not load: the first requests after listen are answered", async (t) => {
  const sim = await startSimulator(t)
  // a limit any stall exceeds, sampled once a second: what boot left in the samples stays there for a while
  const { app } = await buildApp(t, { sim, env: { MAX_EVENT_LOOP_DELAY_MS: '1', PRESSURE_SAMPLE_INTERVAL_MS: '1000' } })
  // boot's last stretch of synchronous work, after ready and before listen
  const until = Date.now() + 300
  while (Date.now() < until);
  // the sampler has recorded the stall (under-pressure's own view)
  await sampled(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.equal(app.loadShedding.reason(), undefined, 'not shedding right after listen')
  const res = await app.inject({ method: 'GET', url: '/api/list' })
  t.equal(res.statusCode, 200, 'the first request is answered, not 503 overloaded')
  t.equal((await app.inject({ method: 'GET', url: '/api/ready' })).statusCode, 200, 'ready')
})
