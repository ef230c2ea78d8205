import { once } from 'node:events'
import path from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { Agent, request } from 'undici'
import { DEMO_PASSWORD, DEMO_USERNAME, type EvercycleSimulator } from '../../dev/simulator/simulator.js'
import { startSimulator } from '../helpers/gateway.js'
import { spawnTracked } from '../helpers/spawn-server.js'

/* The simulator's rate limit (429 + Retry-After), its one-shot 429s, the failure modes a circuit breaker counts,
 * and the per-second view of what reached it; talked to directly, as the gateway does. */

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

/** A clock the test moves: whole seconds start at multiples of 1000, so 1_700_000_000_000 begins one. */
function testClock(start = 1_700_000_000_000): { now: () => number; set: (ms: number) => void; second: number } {
  let ms = start
  return { now: () => ms, set: (v) => void (ms = v), second: Math.floor(start / 1000) }
}

interface Answer {
  status: number
  retryAfter: string | undefined
  contentType: string | undefined
  body: unknown
}

async function signIn(url: string): Promise<Record<string, string>> {
  const res = await request(`${url}/v1/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: DEMO_USERNAME, password: DEMO_PASSWORD })
  })
  const body = (await res.body.json()) as { AuthenticationResult: { AccessToken: string; IdToken: string } }
  return { 'access-token': body.AuthenticationResult.AccessToken, authorization: body.AuthenticationResult.IdToken }
}

async function call(url: string, headers: Record<string, string>, target = '/v1/asset'): Promise<Answer> {
  const res = await request(`${url}${target}`, { headers })
  const text = await res.body.text()
  const header = (name: string): string | undefined => {
    const v = res.headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  return { status: res.statusCode, retryAfter: header('retry-after'), contentType: header('content-type'), body: text === '' ? undefined : JSON.parse(text) }
}

async function calls(url: string, headers: Record<string, string>, n: number): Promise<Answer[]> {
  const out: Answer[] = []
  for (let i = 0; i < n; i++) out.push(await call(url, headers))
  return out
}

async function control(sim: EvercycleSimulator, route: string, body?: unknown): Promise<unknown> {
  const res = await request(`${sim.url}/__sim/${route}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return res.body.json()
}

t.test('beyond the rate, API calls get 429 with Retry-After, are counted and logged; the next second serves again', async (t) => {
  const clock = testClock()
  const sim = await startSimulator(t, { clock: clock.now, rateLimit: { perSecond: 3 } })
  const tokens = await signIn(sim.url)

  const answers = await calls(sim.url, tokens, 5)
  t.same(answers.map((a) => a.status), [200, 200, 200, 429, 429])
  t.same(answers.map((a) => a.retryAfter), [undefined, undefined, undefined, '1', '1'], 'Retry-After defaults to 1 s')
  t.match(answers[3]?.contentType, /application\/json/)
  t.same(answers[3]?.body, { message: 'Too Many Requests' })
  t.equal(sim.counts.rateLimited, 2)
  t.equal(sim.counts.apiCalls, 3, 'a 429 is not an API call served')
  t.same(sim.callsTo('GET', '/v1/asset').map((c) => c.status), [200, 200, 200, 429, 429], 'logged with their status')
  t.same(sim.callsTo('GET', '/v1/asset').map((c) => c.user), Array(5).fill(DEMO_USERNAME), 'the 429s say whose tokens they were')

  // sign-in and refresh are never limited
  for (let i = 0; i < 4; i++) await signIn(sim.url)
  t.equal(sim.counts.signIns, 5)

  clock.set(clock.now() + 999)
  t.equal((await call(sim.url, tokens)).status, 429, 'the last millisecond of the second is still limited')
  clock.set(clock.now() + 1)
  t.same((await calls(sim.url, tokens, 4)).map((a) => a.status), [200, 200, 200, 429], 'a new second: the rate again')
  t.equal(sim.counts.rateLimited, 4)

  t.same([...sim.callsPerSecond()], [[clock.second, 6], [clock.second + 1, 4]], 'every API call that arrived, by second; no sign-in')
  t.equal(sim.maxPerSecond(), 6)
  t.equal(sim.maxPerSecond((clock.second + 1) * 1000), 4)
  t.equal(sim.maxPerSecond(clock.second * 1000 + 500), 6, 'the second holding sinceMs counts whole')
  t.equal(sim.maxPerSecond((clock.second + 2) * 1000), 0)
})

t.test('concurrent calls: exactly the rate is served in a second', async (t) => {
  const clock = testClock()
  const sim = await startSimulator(t, { clock: clock.now, rateLimit: { perSecond: 4 } })
  const tokens = await signIn(sim.url)
  const answers = await Promise.all(Array.from({ length: 20 }, () => call(sim.url, tokens)))
  t.equal(answers.filter((a) => a.status === 200).length, 4)
  t.equal(answers.filter((a) => a.status === 429).length, 16)
  t.equal(sim.counts.rateLimited, 16)
  t.equal(sim.maxPerSecond(), 20)
})

t.test('the rate limit is a runtime setting: set, changed (HTTP-date Retry-After), cleared, restored by reset()', async (t) => {
  const clock = testClock()
  const sim = await startSimulator(t, { clock: clock.now })
  const tokens = await signIn(sim.url)
  t.equal(sim.settings.rateLimit, undefined, 'no limit unless asked')
  t.same((await calls(sim.url, tokens, 10)).map((a) => a.status), Array(10).fill(200))

  const date = new Date(clock.now() + 5000).toUTCString()
  sim.settings.rateLimit = { perSecond: 12, retryAfter: date }
  const answers = await calls(sim.url, tokens, 3)
  t.same(answers.map((a) => a.status), [200, 200, 429], 'the calls already served this second count')
  t.equal(answers[2]?.retryAfter, date, 'Retry-After as an HTTP-date, sent verbatim')

  sim.settings.rateLimit = undefined
  t.equal((await call(sim.url, tokens)).status, 200)

  sim.settings.rateLimit = { perSecond: 0 }
  t.equal((await call(sim.url, tokens)).status, 429, 'perSecond 0: every API call is limited')

  sim.reset()
  t.equal(sim.settings.rateLimit, undefined, 'reset() restores the constructor rate limit (none)')
  t.equal(sim.counts.rateLimited, 0)
  t.equal(sim.callsPerSecond().size, 0, 'and clears the per-second counts')

  const limited = await startSimulator(t, { clock: clock.now, rateLimit: { perSecond: 1, retryAfter: '4' } })
  limited.settings.rateLimit = undefined
  limited.reset()
  t.same(limited.settings.rateLimit, { perSecond: 1, retryAfter: '4' }, 'reset() restores the constructor rate limit')
})

t.test('the limit comes before authentication; within it, a bad token still gets 401', async (t) => {
  const clock = testClock()
  const sim = await startSimulator(t, { clock: clock.now, rateLimit: { perSecond: 1 } })
  const bad = { 'access-token': 'nope', authorization: 'nope' }
  t.equal((await call(sim.url, bad)).status, 401)
  const limited = await call(sim.url, bad)
  t.equal(limited.status, 429)
  t.equal(sim.counts.unauthorized, 1)
  t.equal(sim.counts.rateLimited, 1)
  const logged = sim.calls.at(-1)
  t.equal(logged?.authenticated, false)
  t.equal(logged?.user, undefined)
})

t.test('answer429Next: exactly the next N API calls get 429 with the given Retry-After, whatever the rate', async (t) => {
  const clock = testClock()
  const sim = await startSimulator(t, { clock: clock.now })
  const tokens = await signIn(sim.url)
  sim.answer429Next(2, '2')
  await signIn(sim.url)
  t.equal(sim.counts.signIns, 2, 'a sign-in does not take one')
  const answers = await calls(sim.url, tokens, 3)
  t.same(answers.map((a) => [a.status, a.retryAfter]), [[429, '2'], [429, '2'], [200, undefined]])
  t.equal(sim.counts.rateLimited, 2)

  // queued in order; with a rate limit, they do not use up the rate
  sim.settings.rateLimit = { perSecond: 1 }
  clock.set(clock.now() + 1000)
  sim.answer429Next(1, '5')
  sim.answer429Next(1, '7')
  const limited = await calls(sim.url, tokens, 4)
  t.same(limited.map((a) => [a.status, a.retryAfter]), [[429, '5'], [429, '7'], [200, undefined], [429, '1']])

  sim.answer429Next(3)
  sim.reset()
  t.equal((await call(sim.url, tokens)).status, 200, 'reset() drops pending 429s')
})

t.test('the control API steers the rate limit, one-shot 429s and reads the per-second counts', async (t) => {
  const clock = testClock()
  const sim = await startSimulator(t, { clock: clock.now })
  const tokens = await signIn(sim.url)
  t.same(await control(sim, 'settings', { rateLimit: { perSecond: 2, retryAfter: '3' } }), { ...sim.settings, rateLimit: { perSecond: 2, retryAfter: '3' } })
  t.same((await calls(sim.url, tokens, 3)).map((a) => [a.status, a.retryAfter]), [[200, undefined], [200, undefined], [429, '3']])
  await control(sim, 'settings', { rateLimit: null })
  t.equal(sim.settings.rateLimit, undefined, 'null clears it')
  await control(sim, 'answer-429', { count: 1, retryAfter: '9' })
  t.same((await calls(sim.url, tokens, 2)).map((a) => [a.status, a.retryAfter]), [[429, '9'], [200, undefined]])
  clock.set(clock.now() + 1000)
  await call(sim.url, tokens)
  t.same(await control(sim, 'per-second'), { perSecond: { [clock.second]: 5, [clock.second + 1]: 1 }, max: 5 })
  t.same(await control(sim, `per-second?since=${(clock.second + 1) * 1000}`), { perSecond: { [clock.second]: 5, [clock.second + 1]: 1 }, max: 1 })
  const logged = (await control(sim, 'calls')) as { counts: { rateLimited: number } }
  t.equal(logged.counts.rateLimited, 2)
})

t.test('per-second counts are exact whatever the call log keeps', async (t) => {
  const clock = testClock()
  const sim = await startSimulator(t, { clock: clock.now, maxLoggedCalls: 1 })
  const tokens = await signIn(sim.url)
  await calls(sim.url, tokens, 5)
  clock.set(clock.now() + 2500)
  await calls(sim.url, tokens, 2)
  t.equal(sim.calls.length, 1)
  t.same([...sim.callsPerSecond()], [[clock.second, 5], [clock.second + 2, 2]])
  t.equal(sim.calls[0]?.at, clock.now(), 'the call log takes its time from the clock too')
})

t.test('failure modes for a circuit breaker', async (t) => {
  const sim = await startSimulator(t)
  const tokens = await signIn(sim.url)

  sim.settings.bodyMode = 'error'
  t.same(await call(sim.url, tokens), { status: 500, retryAfter: undefined, contentType: 'application/json', body: { message: 'Internal server error' } })
  sim.settings.bodyMode = 'unavailable'
  t.same(await call(sim.url, tokens), { status: 503, retryAfter: undefined, contentType: 'application/json', body: { message: 'Service Unavailable' } })

  sim.settings.bodyMode = 'hang'
  const closed = new Promise<void>((resolve) => (sim.onRequestClosed = resolve))
  await t.rejects(request(`${sim.url}/v1/asset`, { headers: tokens, headersTimeout: 100 }), { code: 'UND_ERR_HEADERS_TIMEOUT' }, 'no headers until the client gives up')
  await closed
  t.equal(sim.calls.at(-1)?.status, 0, 'logged without a status')

  sim.settings.bodyMode = 'stall'
  const stalled = await request(`${sim.url}/v1/asset`, { headers: tokens, bodyTimeout: 100 })
  t.equal(stalled.statusCode, 200)
  await t.rejects(stalled.body.text(), { code: 'UND_ERR_BODY_TIMEOUT' }, 'headers, then nothing')

  sim.settings.bodyMode = 'drop'
  await t.rejects(request(`${sim.url}/v1/asset`, { headers: tokens }), { code: 'UND_ERR_SOCKET' }, 'closed without an answer')
  t.equal(sim.calls.at(-1)?.status, 0)

  sim.settings.bodyMode = 'normal'
  t.equal((await call(sim.url, tokens)).status, 200)
  t.equal(sim.counts.apiCalls, 6)
})

/** On a new connection: a pooled one the server just cut may not have been seen closed yet ("other side closed"). */
async function unreachable(t: Tap, url: string, tokens: Record<string, string>): Promise<void> {
  const dispatcher = new Agent()
  await t.rejects(request(`${url}/v1/asset`, { headers: tokens, dispatcher }), { code: 'ECONNREFUSED' }, 'unreachable')
  await dispatcher.close()
}

t.test('unreachable: down()/up() and close()/listen(port) come back on the same port with the log, counts and tokens', async (t) => {
  const sim = await startSimulator(t)
  const url = sim.url
  const port = Number(new URL(url).port)
  const tokens = await signIn(url)
  t.equal((await call(url, tokens)).status, 200)

  await sim.down()
  await unreachable(t, url, tokens)
  await sim.up()
  t.equal(sim.url, url)
  t.equal((await call(url, tokens)).status, 200, 'the same tokens still work')

  sim.settings.bodyMode = 'hang'
  const hanging = request(`${url}/v1/asset`, { headers: tokens }).then(
    () => 'answered',
    (err: { code?: string }) => err.code
  )
  // logged (and hanging) once it is in the call log
  while (sim.callsTo('GET', '/v1/asset').length < 3) await new Promise((resolve) => setImmediate(resolve))
  await sim.close()
  t.equal(await hanging, 'UND_ERR_SOCKET', 'close() cuts requests in flight')
  await unreachable(t, url, tokens)
  sim.settings.bodyMode = 'normal'
  t.equal(await sim.listen(port), url)
  t.equal((await call(url, tokens)).status, 200)
  t.equal(sim.counts.signIns, 1)
  t.equal(sim.counts.apiCalls, 4)
  t.equal(sim.callsTo('GET', '/v1/asset').length, 4, 'the call log is kept')
})

t.test('the standalone simulator takes SIM_RATE_LIMIT and SIM_RETRY_AFTER', async (t) => {
  const main = path.join('dev', 'simulator', 'main.ts')
  const child = spawnTracked(t, process.execPath, ['--import', 'tsx', main, '--port', '0'], {
    PATH: process.env.PATH ?? '',
    SIM_RATE_LIMIT: '1',
    SIM_RETRY_AFTER: '7'
  })
  const lines = createInterface({ input: child.stdout! })
  const [line] = (await once(lines, 'line')) as [string]
  const url = (JSON.parse(line) as { simulator: string }).simulator
  const settings = (await (await request(`${url}/__sim/settings`, { method: 'POST', body: '{}' })).body.json()) as { rateLimit: unknown }
  t.same(settings.rateLimit, { perSecond: 1, retryAfter: '7' })
  const tokens = await signIn(url)
  // ten calls at once on the real clock: unless they arrive in ten different seconds, some are beyond 1/s
  const answers = await Promise.all(Array.from({ length: 10 }, () => call(url, tokens)))
  t.ok(answers.some((a) => a.status === 429 && a.retryAfter === '7'))
  t.ok(answers.every((a) => a.status === 200 || a.status === 429))
})
