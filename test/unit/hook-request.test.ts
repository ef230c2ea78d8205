import tap from 'tap'
import { hookHeaders, requestHash, signBody, verifySignature } from '../../src/flows/triggers/hook-request.js'
import { HookRateLimiter } from '../../src/flows/triggers/hook-rate.js'

tap.test('signatures: HMAC-SHA256 of the raw body, hex, sha256= prefix', async (t) => {
  const body = Buffer.from('{"a":1}')
  const header = signBody('k'.repeat(20), body)
  t.match(header, /^sha256=[0-9a-f]{64}$/)
  t.ok(verifySignature('k'.repeat(20), body, header))
  t.ok(verifySignature('k'.repeat(20), body, header.toUpperCase().replace('SHA256=', 'sha256=')), 'hex in either case')
  t.notOk(verifySignature('k'.repeat(20), Buffer.from('{"a": 1}'), header), 'the bytes, not the JSON value')
  t.notOk(verifySignature('x'.repeat(20), body, header))
  for (const bad of [undefined, '', 'sha1=abc', header.slice(0, -2), `${header}00`, header.replace('sha256=', '')]) t.notOk(verifySignature('k'.repeat(20), body, bad))
})

tap.test('headers: the allow-list only', async (t) => {
  t.same(hookHeaders({ 'content-type': 'application/json', cookie: 'a=b', authorization: 'Bearer x', 'x-flowrunner-signature': 'sha256=..', 'x-github-event': ['push', 'again'] }), {
    'content-type': 'application/json',
    'x-github-event': 'push'
  })
})

tap.test('request hashes ignore key order, not values', async (t) => {
  t.equal(requestHash({ a: 1, b: [1, { c: 2, d: 3 }] }), requestHash({ b: [1, { d: 3, c: 2 }], a: 1 }))
  t.not(requestHash({ a: 1 }), requestHash({ a: '1' }))
  t.not(requestHash({ a: [1, 2] }), requestHash({ a: [2, 1] }))
})

tap.test('the per-hook rate: a burst of one second, refilled over time, Retry-After in seconds', async (t) => {
  let now = 0
  const limiter = new HookRateLimiter(3, () => now)
  t.same([limiter.take('h'), limiter.take('h'), limiter.take('h')], [0, 0, 0])
  t.equal(limiter.take('h'), 1, 'the fourth in the same instant waits')
  t.equal(limiter.take('other'), 0, 'each hook has its own bucket')
  now = 340
  t.equal(limiter.take('h'), 0, 'a third of a second refills one')
  t.equal(limiter.take('h'), 1)
})
