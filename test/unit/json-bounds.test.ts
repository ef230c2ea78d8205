import tap from 'tap'
import { checkJsonBounds, truncateText } from '../../src/util/json-bounds.js'

const limits = { maxBytes: 1000, maxDepth: 10 }

function nested(depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = { a: v }
  return v
}

tap.test('a value within the limits passes, with its size as JSON', async (t) => {
  for (const value of [null, 1, 'text', true, [1, 'two', { three: 3 }], { a: { b: [1, 2] } }, nested(10)]) {
    const verdict = checkJsonBounds(value, limits)
    t.ok(verdict.ok, JSON.stringify(value))
    if (verdict.ok) t.equal(verdict.bytes, Buffer.byteLength(JSON.stringify(value)), `size of ${JSON.stringify(value)}`)
  }
})

tap.test('too deep: 11 levels, and 100,000 levels without overflowing the stack', async (t) => {
  for (const depth of [11, 100_000]) {
    const verdict = checkJsonBounds(nested(depth), limits, 'Node result')
    t.same(verdict, { ok: false, code: 'result_too_deep', message: 'Node result nests deeper than 10 levels' })
  }
  t.match(checkJsonBounds([[[[[[[[[[[1]]]]]]]]]]], limits), { ok: false, code: 'result_too_deep' })
})

tap.test('too large: a long string, many small values, a long key, multi-byte text', async (t) => {
  const cases: unknown[] = ['x'.repeat(1000), Array.from({ length: 600 }, () => 1), { ['k'.repeat(2000)]: 1 }, 'é'.repeat(500)]
  for (const value of cases) t.match(checkJsonBounds(value, limits, 'Value'), { ok: false, code: 'result_too_large', message: 'Value is larger than 1000 bytes as JSON' })
})

tap.test('a huge value is refused without walking all of it', async (t) => {
  // 10 million elements: a full walk (or JSON.stringify) would take seconds; the check stops at the limit
  const huge = new Array<number>(10_000_000).fill(7)
  t.match(checkJsonBounds(huge, limits), { ok: false, code: 'result_too_large' })
  t.match(checkJsonBounds('y'.repeat(50_000_000), limits), { ok: false, code: 'result_too_large' })
})

tap.test('truncateText cuts and says how much', async (t) => {
  t.equal(truncateText('short', 10), 'short')
  t.equal(truncateText('0123456789abc', 10), '0123456789… (3 more characters)')
})
