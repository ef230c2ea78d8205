import { test } from 'tap'
import { summarizePaired } from '../../bench/lib/paired.js'
import { median } from '../../bench/lib/stats.js'

test('median of odd and even counts, unsorted input left as it was', async (t) => {
  const values = [3, 1, 2]
  t.equal(median(values), 2)
  t.same(values, [3, 1, 2])
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.ok(Number.isNaN(median([])))
})

test('B ÷ A per round, with the median of each start', async (t) => {
  const s = summarizePaired([
    { start: 1, a: 100, b: 75 },
    { start: 1, a: 100, b: 80 },
    { start: 1, a: 100, b: 70 },
    { start: 2, a: 200, b: 180 },
    { start: 2, a: 100, b: 90 }
  ])
  t.equal(s.median, 0.8)
  t.equal(s.low, 0.7)
  t.equal(s.high, 0.9)
  t.same(s.perStart, [0.75, 0.9])
})

test('a round whose A used no measurable CPU is left out, not divided by', async (t) => {
  const s = summarizePaired([
    { start: 1, a: 0, b: 50 },
    { start: 1, a: 100, b: 110 }
  ])
  t.equal(s.median, 1.1)
  t.same(s.perStart, [1.1])
  t.ok(Number.isNaN(summarizePaired([]).median))
})
