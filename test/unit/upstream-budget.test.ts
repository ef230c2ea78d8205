import tap from 'tap'
import { isDomainError } from '../../src/errors.js'
import { UpstreamBudget } from '../../src/evercycle/upstream/budget.js'
import { CircuitBreaker } from '../../src/evercycle/upstream/circuit-breaker.js'
import { localRate } from '../../src/evercycle/upstream/create-budget.js'
import { SlidingWindow } from '../../src/evercycle/upstream/sliding-window.js'

function budget(over: Partial<ConstructorParameters<typeof UpstreamBudget>[0]> = {}): UpstreamBudget {
  return new UpstreamBudget({
    maxConcurrency: 1,
    queueTimeoutMs: 5000,
    flowReserve: 0,
    breaker: new CircuitBreaker({ failures: 5, windowMs: 30_000, cooldownMs: 10_000 }),
    ...over
  })
}

const codeOf = (err: unknown): string | undefined => (isDomainError(err) ? err.code : undefined)

tap.test('a call waiting for its slot when a 429 pauses everything does not go', async (t) => {
  const b = budget()
  const first = await b.acquire('interactive')
  const second = b.acquire('interactive').then(() => 'went', (err: unknown) => codeOf(err))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(b.queued('interactive'), 1)
  b.release(first, { kind: 'rate_limited', retryAfterMs: 2000 })
  t.equal(await second, 'upstream_rate_limited')
  t.equal(b.active, 0, 'its slot was given back')
})

tap.test('interactive calls in line go before flow calls, which never wait here', async (t) => {
  const b = budget()
  const held = await b.acquire('interactive')
  await t.rejects(b.acquire('flow'), { code: 'upstream_busy' }, 'no slot: the flow call is deferred at once')
  const waiting = b.acquire('interactive')
  b.release(held, { kind: 'ok' })
  const permit = await waiting
  t.equal(permit.lane, 'interactive')
})

tap.test('a sliding window keeps every second-long interval at the limit, idle spells or not', async (t) => {
  let now = 0
  const w = new SlidingWindow(3, 1000, () => now)
  t.same([w.take(), w.take(), w.take()], [0, 0, 0])
  t.equal(w.take(), 1000)
  now = 999
  t.equal(w.take(), 1)
  now = 1000
  t.equal(w.take(), 0)
  w.untake()
  t.equal(w.take(), 0, 'an event given back frees its place')
})

tap.test('the local rate: a token bucket plus the window, so a burst after idling never doubles a second', async (t) => {
  let now = 0
  const rate = localRate(4, 4, () => now)
  const at = async (ms: number): Promise<number> => {
    now = ms
    let n = 0
    while ((await rate.take(0)) === 0) n++
    return n
  }
  t.equal(await at(0), 4, 'the burst')
  // the bucket refilled by 0.9 s, but the window still holds the four of t=0
  t.equal(await at(900), 0)
  t.equal(await at(1100), 4)
})
