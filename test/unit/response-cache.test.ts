import tap from 'tap'
import {
  cacheKey,
  entrySize,
  parseCacheSettings,
  ResponseCache,
  type CachedResponse
} from '../../src/evercycle/upstream/response-cache.js'

function cache(maxEntries = 100, maxBytes = 1_000_000) {
  const time = { now: 1_000 }
  return { c: new ResponseCache({ maxEntries, maxBytes, clock: () => time.now }), time }
}

function answer(body: string, headers: Record<string, string> = {}): CachedResponse {
  return { statusCode: 200, headers, body: Buffer.from(body) }
}

tap.test('a miss, then a hit of what was stored', async (t) => {
  const { c } = cache()
  t.equal(c.get('k'), undefined)
  const entry = answer('{"a":1}', { 'content-type': 'application/json' })
  t.equal(c.set('k', 'get-all', entry, 5_000, 0), true)
  t.same(c.get('k'), { entry, state: 'fresh' })
  t.same(c.stats, { hits: 1, misses: 1, stale: 0, evictions: 0, entries: 1, bytes: entrySize('k', entry) })
})

tap.test('fresh for ttl, stale for the window after it, then gone', async (t) => {
  const { c, time } = cache()
  c.set('k', 'get-all', answer('x'), 5_000, 30_000)
  time.now += 4_999
  t.equal(c.get('k')?.state, 'fresh')
  time.now += 1
  t.equal(c.get('k')?.state, 'stale', 'stale from the ttl on')
  time.now += 29_999
  t.equal(c.get('k')?.state, 'stale')
  time.now += 1
  t.equal(c.get('k'), undefined, 'past ttl + stale: deleted')
  t.same(c.stats, { hits: 1, misses: 1, stale: 2, evictions: 0, entries: 0, bytes: 0 })
})

tap.test('without a stale window it is gone at the ttl', async (t) => {
  const { c, time } = cache()
  c.set('k', 'get-all', answer('x'), 1_000, 0)
  time.now += 1_000
  t.equal(c.get('k'), undefined)
  t.equal(c.stats.entries, 0)
})

tap.test('setting a key again replaces its entry and its bytes', async (t) => {
  const { c } = cache()
  c.set('k', 'get-all', answer('short'), 1_000, 0)
  c.set('k', 'get-all', answer('a longer body'), 1_000, 0)
  t.equal(c.get('k')?.entry.body.toString(), 'a longer body')
  t.same([c.stats.entries, c.stats.bytes], [1, entrySize('k', answer('a longer body'))])
})

tap.test('entry size counts the body, header names and values, and the key, in UTF-8 bytes', async (t) => {
  t.equal(entrySize('kk', answer('é', { ab: 'cde' })), 2 + 2 + 5)
})

tap.test('LRU by entries: the least recently used goes, and a get refreshes recency', async (t) => {
  const { c } = cache(3)
  c.set('a', 'op', answer('1'), 1_000, 0)
  c.set('b', 'op', answer('2'), 1_000, 0)
  c.set('c', 'op', answer('3'), 1_000, 0)
  c.get('a') // b is now the least recently used
  c.set('d', 'op', answer('4'), 1_000, 0)
  t.equal(c.get('b'), undefined, 'b evicted')
  t.ok(c.get('a') && c.get('c') && c.get('d'), 'the rest stay')
  t.equal(c.stats.evictions, 1)
  c.set('c', 'op', answer('3 again'), 1_000, 0) // a set refreshes recency too: a is now the oldest
  c.set('e', 'op', answer('5'), 1_000, 0)
  t.equal(c.get('a'), undefined)
  t.same([c.stats.entries, c.stats.evictions], [3, 2])
})

tap.test('LRU by bytes: evicts as many as it takes to fit', async (t) => {
  const size = entrySize('a', answer('0123456789')) // 11
  const { c } = cache(100, size * 3)
  for (const key of ['a', 'b', 'c']) c.set(key, 'op', answer('0123456789'), 1_000, 0)
  t.equal(c.stats.bytes, size * 3)
  c.get('a')
  const big = answer('x'.repeat(size * 2 - 1)) // with its 1-byte key: two entries' worth
  c.set('d', 'op', big, 1_000, 0)
  t.equal(c.get('b'), undefined)
  t.equal(c.get('c'), undefined)
  t.ok(c.get('a') !== undefined && c.get('d') !== undefined)
  t.same([c.stats.bytes, c.stats.evictions], [size * 3, 2])
})

tap.test('an entry larger than maxBytes is not stored, and evicts nothing', async (t) => {
  const { c } = cache(100, 50)
  c.set('a', 'op', answer('small'), 1_000, 0)
  t.equal(c.set('b', 'op', answer('x'.repeat(50)), 1_000, 0), false, '50 + the key is over 50')
  t.equal(c.get('b'), undefined)
  t.ok(c.get('a'))
  t.equal(c.stats.evictions, 0)
  const exact = answer('x'.repeat(49))
  t.equal(c.set('b', 'op', exact, 1_000, 0), true, 'exactly maxBytes fits')
  t.equal(c.get('a'), undefined, 'and pushes the rest out')
  t.equal(c.stats.bytes, 50)
})

tap.test('an oversized answer for a stored key drops the old one too (it is superseded)', async (t) => {
  const { c } = cache(100, 20)
  c.set('k', 'op', answer('old'), 1_000, 0)
  t.equal(c.set('k', 'op', answer('x'.repeat(30)), 1_000, 0), false)
  t.equal(c.get('k'), undefined)
  t.same([c.stats.entries, c.stats.bytes], [0, 0])
})

tap.test('nothing is stored for a zero lifetime', async (t) => {
  const { c } = cache()
  t.equal(c.set('k', 'op', answer('x'), 0, 0), false)
  t.equal(c.stats.entries, 0)
})

tap.test('invalidate drops every entry of one operation and says how many', async (t) => {
  const { c } = cache()
  c.set(cacheKey('u1', 'get-all', {}), 'get-all', answer('1'), 1_000, 0)
  c.set(cacheKey('u2', 'get-all', { page: 2 }), 'get-all', answer('2'), 1_000, 0)
  c.set(cacheKey('u1', 'get-asset-id', { id: 'A' }), 'get-asset-id', answer('3'), 1_000, 0)
  t.equal(c.invalidate('get-all'), 2)
  t.equal(c.invalidate('get-all'), 0)
  t.same([c.stats.entries, c.stats.bytes], [1, entrySize(cacheKey('u1', 'get-asset-id', { id: 'A' }), answer('3'))])
  t.ok(c.get(cacheKey('u1', 'get-asset-id', { id: 'A' })))
})

tap.test('an answer fetched before an invalidation is not stored after it', async (t) => {
  const { c } = cache()
  const before = c.generation('get-all')
  c.invalidate('get-all') // a write lands while the read is in flight
  t.equal(c.set('k', 'get-all', answer('pre-write'), 1_000, 0, before), false)
  t.equal(c.get('k'), undefined)
  t.equal(c.set('k', 'get-all', answer('post-write'), 1_000, 0, c.generation('get-all')), true)
  c.invalidate('get-asset-id')
  t.equal(c.set('j', 'get-all', answer('other op invalidated'), 1_000, 0, before + 1), true)
})

tap.test('a stale entry is refreshed by exactly one caller at a time', async (t) => {
  const { c } = cache()
  t.equal(c.claimRefresh('k'), true)
  t.equal(c.claimRefresh('k'), false)
  t.equal(c.claimRefresh('k'), false)
  t.equal(c.claimRefresh('j'), true, 'claims are per key')
  c.endRefresh('k')
  t.equal(c.claimRefresh('k'), true, 'claimable again once ended')
  c.endRefresh('nothing') // ending an unclaimed key is harmless
})

tap.test('cacheKey: key order never matters, at any depth', async (t) => {
  t.equal(cacheKey('u', 'op', { a: 1, b: 2 }), cacheKey('u', 'op', { b: 2, a: 1 }))
  t.equal(
    cacheKey('u', 'op', { query: { z: '1', a: '2' }, path: { id: 'x' } }),
    cacheKey('u', 'op', { path: { id: 'x' }, query: { a: '2', z: '1' } })
  )
  t.equal(cacheKey('u', 'op', { list: [{ b: 1, a: 2 }] }), cacheKey('u', 'op', { list: [{ a: 2, b: 1 }] }))
  t.equal(cacheKey('u', 'op', { a: 1, skip: undefined }), cacheKey('u', 'op', { a: 1 }), 'undefined is absent')
})

tap.test('cacheKey: everything else tells keys apart', async (t) => {
  const base = cacheKey('u1', 'get-all', { page: '1' })
  t.not(cacheKey('u2', 'get-all', { page: '1' }), base, 'identities never share')
  t.not(cacheKey('u1', 'get-asset-id', { page: '1' }), base, 'nor operations')
  t.not(cacheKey('u1', 'get-all', { page: '2' }), base)
  t.not(cacheKey('u1', 'get-all', { page: 1 }), base, 'a number is not its text')
  t.not(cacheKey('u1', 'get-all', {}), base)
  t.not(cacheKey('u', 'op', { list: [1, 2] }), cacheKey('u', 'op', { list: [2, 1] }), 'arrays keep their order')
  t.not(cacheKey('a|b', 'c', {}), cacheKey('a', 'b|c', {}), 'no separator in a name can forge another key')
  t.not(cacheKey('a","b', 'c', {}), cacheKey('a', 'b","c', {}))
})

tap.test('cacheKey: a "__proto__" parameter is a key like any other', async (t) => {
  const params = JSON.parse('{"__proto__":{"x":1},"a":1}') as Record<string, unknown>
  const key = cacheKey('u', 'op', params)
  t.match(key, /__proto__/)
  t.not(key, cacheKey('u', 'op', { a: 1 }))
  t.equal(({} as Record<string, unknown>).x, undefined, 'no prototype was touched')
})

tap.test('parseCacheSettings: durations as text or ms', async (t) => {
  t.same(parseCacheSettings({ ttl: '5s', stale_while_revalidate: '30s' }), { ttlMs: 5_000, staleMs: 30_000 })
  t.same(parseCacheSettings({ ttl: 500, stale_while_revalidate: '2m' }), { ttlMs: 500, staleMs: 120_000 })
  t.same(parseCacheSettings({ ttl: '500ms' }), { ttlMs: 500, staleMs: 0 }, 'no stale window by default')
  t.same(parseCacheSettings({ ttl: '1h', stale_while_revalidate: 0 }), { ttlMs: 3_600_000, staleMs: 0 })
})

tap.test('parseCacheSettings: refusals say what is wrong', async (t) => {
  const refused = (value: unknown, pattern: RegExp): void => {
    const result = parseCacheSettings(value)
    t.ok('error' in result, JSON.stringify(value) ?? 'undefined')
    if ('error' in result) t.match(result.error, pattern)
  }
  refused(undefined, /object/)
  refused(null, /object/)
  refused('5s', /object/)
  refused([], /object/)
  refused({}, /ttl/)
  refused({ ttl: 0 }, /ttl/)
  refused({ ttl: '0s' }, /ttl/)
  refused({ ttl: 'soon' }, /ttl/)
  refused({ ttl: -5 }, /ttl/)
  refused({ ttl: true }, /ttl/)
  refused({ ttl: '5s', stale_while_revalidate: 'later' }, /stale_while_revalidate/)
  refused({ ttl: '5s', 'stale-while-revalidate': '30s' }, /unknown setting stale-while-revalidate/)
})

tap.test('the default clock is Date.now', async (t) => {
  const c = new ResponseCache({ maxEntries: 1, maxBytes: 100 })
  c.set('k', 'op', answer('x'), 60_000, 0)
  t.equal(c.get('k')?.state, 'fresh')
})

tap.test('bounds out of range are refused', async (t) => {
  t.throws(() => new ResponseCache({ maxEntries: 0, maxBytes: 1 }), RangeError)
  t.throws(() => new ResponseCache({ maxEntries: 1, maxBytes: 0 }), RangeError)
})
