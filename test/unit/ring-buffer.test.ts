import tap from 'tap'
import { RingBuffer } from '../../src/util/ring-buffer.js'

tap.test('holds what was pushed, newest first, until full', async (t) => {
  const ring = new RingBuffer<number>(3)
  t.equal(ring.size, 0)
  t.same(ring.newestFirst(), [])
  t.equal(ring.newest(), undefined)
  ring.push(1)
  ring.push(2)
  t.equal(ring.size, 2)
  t.same(ring.newestFirst(), [2, 1])
  t.equal(ring.newest(), 2)
})

tap.test('past its capacity the oldest go first, and the size stays at the capacity', async (t) => {
  const ring = new RingBuffer<number>(3)
  for (let i = 1; i <= 10; i++) ring.push(i)
  t.equal(ring.size, 3)
  t.same(ring.newestFirst(), [10, 9, 8])
  t.equal(ring.newest(), 10)
  ring.push(11)
  t.same(ring.newestFirst(), [11, 10, 9], 'wraps around again')
})

tap.test('a capacity of one keeps the last item', async (t) => {
  const ring = new RingBuffer<string>(1)
  ring.push('a')
  ring.push('b')
  t.same(ring.newestFirst(), ['b'])
})

tap.test('the list is a copy: changing it changes nothing held', async (t) => {
  const ring = new RingBuffer<number>(2)
  ring.push(1)
  ring.newestFirst().push(99)
  t.same(ring.newestFirst(), [1])
})

tap.test('clear empties it; a bad capacity is refused', async (t) => {
  const ring = new RingBuffer<number>(2)
  ring.push(1)
  ring.clear()
  t.equal(ring.size, 0)
  t.same(ring.newestFirst(), [])
  ring.push(2)
  t.same(ring.newestFirst(), [2])
  for (const bad of [0, -1, 1.5, Number.NaN]) t.throws(() => new RingBuffer(bad), RangeError, String(bad))
})
