import tap from 'tap'
import { SlidingWindow } from '../../src/evercycle/upstream/sliding-window.js'

function windowOf(limit: number, windowMs: number) {
  const time = { now: 1_000_000 }
  return { w: new SlidingWindow(limit, windowMs, () => time.now), time }
}

tap.test('at most the limit in any window; the wait is until the oldest is a window old', async (t) => {
  const { w, time } = windowOf(3, 1000)
  for (let i = 0; i < 3; i++) {
    t.equal(w.take(), 0)
    time.now += 100
  }
  t.equal(w.take(), 700, 'the first of the three is 300 ms old')
  time.now += 700
  t.equal(w.take(), 0, 'then one more')
  t.equal(w.take(), 100, 'and the next waits for the second')
})

tap.test('a take with a reserve leaves that many slots free for takes without one', async (t) => {
  const { w, time } = windowOf(10, 1000)
  let flows = 0
  while (w.take(2) === 0) flows++
  t.equal(flows, 8, 'a caller leaving 2 slots free gets 8 of 10')
  t.equal(w.take(2), 1000, 'and waits until the first of its 8 is a window old')
  t.equal(w.take(), 0, 'an interactive take gets the 9th at once')
  t.equal(w.take(), 0, 'and the 10th')
  t.equal(w.take(), 1000, 'then the window is full for everyone')
  time.now += 1000
  t.equal(w.take(2), 0, 'a window later the first slot is free again')
  t.equal(w.take(20), 1000, 'a reserve beyond the limit is clamped: it needs the whole window free')
})

tap.test('untake gives the latest slot back', async (t) => {
  const { w } = windowOf(2, 1000)
  t.equal(w.take(), 0)
  t.equal(w.take(), 0)
  t.equal(w.take(), 1000)
  w.untake()
  t.equal(w.take(), 0, 'the slot the latest take held is free')
})
