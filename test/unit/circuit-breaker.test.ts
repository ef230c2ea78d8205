import tap from 'tap'
import { CircuitBreaker, HALF_OPEN_RETRY_MS, type BreakerState } from '../../src/evercycle/upstream/circuit-breaker.js'

function breaker(over: { failures?: number; windowMs?: number; cooldownMs?: number } = {}) {
  const time = { now: 1_000_000 }
  const changes: Array<[BreakerState, BreakerState]> = []
  const b = new CircuitBreaker({
    failures: over.failures ?? 3,
    windowMs: over.windowMs ?? 30_000,
    cooldownMs: over.cooldownMs ?? 10_000,
    clock: () => time.now,
    onChange: (from, to) => changes.push([from, to])
  })
  return { b, time, changes }
}

function fail(b: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) b.failure(false)
}

tap.test('closed lets every call through, not as a probe', async (t) => {
  const { b, changes } = breaker()
  t.equal(b.state, 'closed')
  t.same(b.admit(), { kind: 'call', probe: false })
  t.same(b.admit(), { kind: 'call', probe: false })
  t.equal(b.retryAfterMs(), 0)
  t.same(changes, [])
})

tap.test('opens on the Nth consecutive failure, and fails fast with the cooldown left', async (t) => {
  const { b, time, changes } = breaker()
  fail(b, 2)
  t.equal(b.state, 'closed', 'one short of the threshold')
  b.failure(false)
  t.equal(b.state, 'open')
  t.same(changes, [['closed', 'open']])
  t.same(b.admit(), { kind: 'open', retryAfterMs: 10_000 })
  time.now += 4_000
  t.same(b.admit(), { kind: 'open', retryAfterMs: 6_000 })
  t.equal(b.retryAfterMs(), 6_000)
})

tap.test('a success between failures resets the count', async (t) => {
  const { b } = breaker()
  fail(b, 2)
  b.success(false)
  fail(b, 2)
  t.equal(b.state, 'closed')
  b.failure(false)
  t.equal(b.state, 'open')
})

tap.test('failures older than the window before the latest do not count', async (t) => {
  const { b, time } = breaker({ failures: 3, windowMs: 1_000 })
  b.failure(false)
  time.now += 600
  b.failure(false)
  time.now += 600 // the first is now 1200 ms before the latest: out of the window
  b.failure(false)
  t.equal(b.state, 'closed', 'only two fall within the window')
  time.now += 400 // the second is exactly the window before the latest: still within
  b.failure(false)
  t.equal(b.state, 'open', 'three within 1000 ms of the latest')
})

tap.test('a run spread wider than the window never opens, however long', async (t) => {
  const { b, time } = breaker({ failures: 2, windowMs: 1_000 })
  for (let i = 0; i < 10; i++) {
    b.failure(false)
    time.now += 1_001
  }
  t.equal(b.state, 'closed')
})

tap.test('after the cooldown exactly one caller probes; the others fail fast meanwhile', async (t) => {
  const { b, time, changes } = breaker()
  fail(b, 3)
  time.now += 10_000
  t.same(b.admit(), { kind: 'call', probe: true }, 'the first caller probes')
  t.equal(b.state, 'half_open')
  for (let i = 0; i < 5; i++) t.same(b.admit(), { kind: 'open', retryAfterMs: HALF_OPEN_RETRY_MS })
  t.equal(b.retryAfterMs(), HALF_OPEN_RETRY_MS)
  t.ok(HALF_OPEN_RETRY_MS > 0)
  t.same(changes, [
    ['closed', 'open'],
    ['open', 'half_open']
  ])
})

tap.test("the probe's success closes it and clears the count", async (t) => {
  const { b, time, changes } = breaker()
  fail(b, 3)
  time.now += 10_000
  b.admit()
  b.success(true)
  t.equal(b.state, 'closed')
  t.same(b.admit(), { kind: 'call', probe: false })
  fail(b, 2)
  t.equal(b.state, 'closed', 'the failures before opening were forgotten')
  t.same(changes.at(-1), ['half_open', 'closed'])
})

tap.test("the probe's failure re-opens it for a fresh cooldown", async (t) => {
  const { b, time, changes } = breaker()
  fail(b, 3)
  time.now += 15_000 // well past the cooldown: the new one counts from the probe's failure
  t.same(b.admit(), { kind: 'call', probe: true })
  time.now += 2_000
  b.failure(true)
  t.equal(b.state, 'open')
  t.same(b.admit(), { kind: 'open', retryAfterMs: 10_000 })
  time.now += 10_000
  t.same(b.admit(), { kind: 'call', probe: true }, 'and probes again after it')
  t.same(changes, [
    ['closed', 'open'],
    ['open', 'half_open'],
    ['half_open', 'open'],
    ['open', 'half_open']
  ])
})

tap.test('a released probe frees the slot: the next caller probes at once', async (t) => {
  const { b, time, changes } = breaker()
  fail(b, 3)
  time.now += 10_000
  t.same(b.admit(), { kind: 'call', probe: true })
  b.release(true)
  t.equal(b.state, 'open')
  t.equal(b.retryAfterMs(), 0)
  t.same(b.admit(), { kind: 'call', probe: true }, 'no second cooldown')
  t.same(b.admit().kind, 'open', 'and still only one probe')
  t.same(changes.slice(1), [
    ['open', 'half_open'],
    ['half_open', 'open'],
    ['open', 'half_open']
  ])
})

tap.test('no-ops change nothing and notify nobody', async (t) => {
  const { b, time, changes } = breaker()
  b.success(true) // a probe verdict while closed
  b.failure(true)
  b.release(true)
  b.release(false)
  t.equal(b.state, 'closed')
  t.same(changes, [])
  fail(b, 3)
  fail(b, 5) // stragglers failing while open
  time.now += 9_999
  t.same(b.admit(), { kind: 'open', retryAfterMs: 1 }, 'stragglers did not extend the cooldown')
  b.success(false) // a straggler succeeding while open does not skip the cooldown
  t.equal(b.state, 'open')
  b.release(true) // no probe is out
  t.equal(b.state, 'open')
  t.same(b.admit(), { kind: 'open', retryAfterMs: 1 })
  time.now += 1
  b.admit()
  b.failure(false) // a straggler failing while the probe is out
  b.success(false)
  t.equal(b.state, 'half_open', 'only the probe decides')
  t.same(changes, [
    ['closed', 'open'],
    ['open', 'half_open']
  ])
})

tap.test('onChange sees the new state already in place', async (t) => {
  const seen: string[] = []
  const b: CircuitBreaker = new CircuitBreaker({
    failures: 1,
    windowMs: 1_000,
    cooldownMs: 0,
    clock: () => 0,
    onChange: (_from, to) => seen.push(`${to}:${b.state}`)
  })
  b.failure(false)
  t.same(b.admit(), { kind: 'call', probe: true }, 'a zero cooldown probes on the next call')
  t.same(seen, ['open:open', 'half_open:half_open'])
})

tap.test('the default clock is Date.now', async (t) => {
  const b = new CircuitBreaker({ failures: 1, windowMs: 1_000, cooldownMs: 60_000 })
  b.failure(false)
  const left = b.retryAfterMs()
  t.ok(left > 0 && left <= 60_000, 'counted from the real clock')
})

tap.test('options out of range are refused', async (t) => {
  t.throws(() => new CircuitBreaker({ failures: 0, windowMs: 1, cooldownMs: 1 }), RangeError)
  t.throws(() => new CircuitBreaker({ failures: 1.5, windowMs: 1, cooldownMs: 1 }), RangeError)
  t.throws(() => new CircuitBreaker({ failures: 1, windowMs: 0, cooldownMs: 1 }), RangeError)
  t.throws(() => new CircuitBreaker({ failures: 1, windowMs: 1, cooldownMs: -1 }), RangeError)
  t.throws(() => new CircuitBreaker({ failures: 1, windowMs: Number.NaN, cooldownMs: 1 }), RangeError)
})

tap.test('snapshot: the run toward opening, then when it opened and when it will probe', async (t) => {
  const { b, time } = breaker({ windowMs: 5_000 })
  t.same(b.snapshot(), { state: 'closed', openedAt: undefined, probeAt: undefined, consecutiveFailures: 0 })
  fail(b, 2)
  t.equal(b.snapshot().consecutiveFailures, 2)
  time.now += 6_000
  t.equal(b.snapshot().consecutiveFailures, 0, 'failures older than the window no longer count')
  fail(b, 3)
  const openedAt = time.now
  t.same(b.snapshot(), { state: 'open', openedAt, probeAt: openedAt + 10_000, consecutiveFailures: 0 })
  time.now += 10_000
  t.same(b.admit(), { kind: 'call', probe: true })
  t.same(b.snapshot(), { state: 'half_open', openedAt, probeAt: undefined, consecutiveFailures: 0 }, 'the probe is out')
  b.failure(true)
  t.same(b.snapshot(), { state: 'open', openedAt, probeAt: time.now + 10_000, consecutiveFailures: 0 }, 'a failed probe keeps the outage start')
  time.now += 10_000
  b.admit()
  b.success(true)
  t.same(b.snapshot(), { state: 'closed', openedAt: undefined, probeAt: undefined, consecutiveFailures: 0 })
})
