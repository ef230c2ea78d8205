import tap from 'tap'
import { TokenBucket } from '../../src/evercycle/upstream/token-bucket.js'

function bucket(rate: number, burst: number) {
  const time = { now: 5_000_000 }
  return { b: new TokenBucket({ rate, burst, clock: () => time.now }), time }
}

/** Takes until refused; returns how many were taken. */
function drain(b: TokenBucket, reserve = 0): number {
  let taken = 0
  while (b.take(reserve) === 0) taken++
  return taken
}

tap.test('starts full: a burst goes through at once, then the wait for the next token', async (t) => {
  const { b } = bucket(10, 5)
  t.equal(drain(b), 5)
  t.equal(b.take(), 100, 'one token at 10/s is 100 ms away')
})

tap.test('refills at the rate, never beyond the burst', async (t) => {
  const { b, time } = bucket(10, 5)
  drain(b)
  time.now += 250
  t.equal(drain(b), 2, '2.5 tokens after 250 ms: two whole ones')
  t.equal(b.take(), 50, 'the half token left needs 50 ms more')
  time.now += 60_000
  t.equal(drain(b), 5, 'an idle minute refills to the burst only')
})

tap.test('a refusal takes nothing', async (t) => {
  const { b, time } = bucket(4, 1)
  t.equal(b.take(), 0)
  t.equal(b.take(), 250)
  t.equal(b.take(), 250)
  time.now += 250
  t.equal(b.take(), 0, 'exactly one token after the wait it announced')
})

tap.test('fractional rates: the wait is rounded up, and sleeping it is always enough', async (t) => {
  const { b, time } = bucket(3, 1)
  b.take()
  const wait = b.take()
  t.equal(wait, 334, '333.3 ms rounds up')
  time.now += wait
  t.equal(b.take(), 0)
  // many small steps accumulate floating-point error; a caller waiting what it was told must still get its token
  for (let i = 0; i < 1_000; i++) {
    let w = b.take()
    while (w > 0) {
      time.now += w
      w = b.take()
    }
  }
  t.pass('a thousand waits, each enough')
})

tap.test('tiny increments add up to whole tokens', async (t) => {
  const { b, time } = bucket(10, 1)
  b.take()
  for (let i = 0; i < 10; i++) time.now += 10 // 0.1 token each: 0.1 + 0.1 + ... is not exactly 1.0 in floats
  t.equal(b.available >= 0.999999, true)
  t.equal(b.take(), 0, 'ten tenths make one')
})

tap.test('a reserve leaves headroom: the low lane stops while the high lane still gets tokens', async (t) => {
  const { b, time } = bucket(10, 10)
  t.equal(drain(b, 3), 7, 'stops with 3 left')
  t.equal(b.take(3), 100, 'waits for 4 tokens: one more')
  t.equal(drain(b), 3, 'the reserve is there for a caller without one')
  t.equal(b.take(3), 400, 'from empty, 4 tokens are 400 ms away')
  time.now += 400
  t.equal(b.take(3), 0)
  t.equal(b.available, 3)
})

tap.test('a reserve the bucket could never hold is clamped to its capacity (no starvation)', async (t) => {
  const { b, time } = bucket(2, 2)
  t.equal(b.take(5), 0, 'a full bucket serves it')
  t.equal(b.take(5), 500, 'then it waits for a full bucket: one more token at 2/s')
  time.now += 500
  t.equal(b.take(5), 0)
  t.equal(b.take(-3), 0, 'a negative reserve counts as none: the last token goes')
  t.equal(b.take(-3), 500)
})

tap.test('refund gives a token back, capped at the burst', async (t) => {
  const { b } = bucket(1, 2)
  drain(b)
  b.refund()
  t.equal(b.take(), 0)
  b.refund()
  b.refund()
  b.refund()
  t.equal(b.available, 2, 'never beyond the burst')
})

tap.test('a pause stops every take until it ends, whatever the tokens', async (t) => {
  const { b, time } = bucket(10, 10)
  b.pauseUntil(time.now + 2_000)
  t.equal(b.pausedUntilMs, time.now + 2_000)
  t.equal(b.take(), 2_000)
  t.equal(b.take(5), 2_000)
  time.now += 1_500
  t.equal(b.take(), 500)
  time.now += 500
  t.equal(drain(b), 10, 'the bucket is full again when it ends')
})

tap.test('a pause ending before the bucket refills waits for the tokens too', async (t) => {
  const { b, time } = bucket(1, 5)
  drain(b)
  b.pauseUntil(time.now + 300)
  t.equal(b.take(), 1_000, 'the token is further away than the end of the pause')
  time.now += 1_000
  t.equal(b.take(), 0)
})

tap.test('a pause only ever extends', async (t) => {
  const { b, time } = bucket(10, 10)
  b.pauseUntil(time.now + 5_000)
  b.pauseUntil(time.now + 1_000)
  t.equal(b.take(), 5_000)
  b.pauseUntil(time.now + 8_000)
  t.equal(b.take(), 8_000)
  b.pauseUntil(time.now - 1_000)
  t.equal(b.take(), 8_000, 'a pause in the past changes nothing')
})

tap.test('a clock stepping backwards neither adds nor drains tokens', async (t) => {
  const { b, time } = bucket(10, 2)
  drain(b)
  time.now -= 10_000
  t.equal(b.take(), 100)
  time.now += 100
  t.equal(b.take(), 0, 'the refill goes on from the rewound reading (not frozen until the clock catches up)')
})

tap.test('the default clock is Date.now', async (t) => {
  const b = new TokenBucket({ rate: 1, burst: 1 })
  t.equal(b.take(), 0)
  const wait = b.take()
  t.ok(wait > 0 && wait <= 1_000)
})

tap.test('options out of range are refused', async (t) => {
  t.throws(() => new TokenBucket({ rate: 0, burst: 1 }), RangeError)
  t.throws(() => new TokenBucket({ rate: Number.POSITIVE_INFINITY, burst: 1 }), RangeError)
  t.throws(() => new TokenBucket({ rate: 1, burst: 0.5 }), RangeError, 'a bucket that can never hold a token')
  t.throws(() => new TokenBucket({ rate: 1, burst: Number.NaN }), RangeError)
})
