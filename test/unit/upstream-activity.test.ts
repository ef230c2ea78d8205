import tap from 'tap'
import type { UpstreamObserver } from '../../src/evercycle/client.js'
import { domainError } from '../../src/errors.js'
import { answeredFailure, observeActivity, transportFailure, UpstreamActivity } from '../../src/evercycle/upstream/upstream-activity.js'
import { isUsable, refreshDueAt, type TokenSet } from '../../src/evercycle/tokens.js'

const request = { method: 'GET' as const, path: '/v1/asset/a-value', query: { q: 'query-value' }, operation: 'get-asset-id', requestId: 'req-1' }

tap.test('an answer below 400 is a success; failures are kept newest first, at most the capacity', async (t) => {
  const time = { now: 1_000 }
  const activity = new UpstreamActivity(2, () => time.now)
  t.same(activity.snapshot(), { lastSuccessAt: undefined, lastFailure: undefined, failures: 0, recent: [] })
  activity.exchanged('200')
  time.now = 2_000
  for (const outcome of ['404', '503', 'upstream_timeout', 'aborted']) activity.exchanged(outcome)
  t.equal(activity.snapshot().lastSuccessAt, 1_000, 'only a 2xx or 3xx answer counts')
  activity.exchanged('304')
  t.equal(activity.snapshot().lastSuccessAt, 2_000)

  for (const status of [500, 502, 503]) {
    time.now += 10
    activity.failed(answeredFailure(request, status))
  }
  const snap = activity.snapshot()
  t.equal(snap.failures, 3, 'every failure counted')
  t.same(snap.recent.map((f) => f.status), [503, 502], 'the ring keeps the last two')
  t.equal(snap.lastFailure?.at, time.now)
})

tap.test('a failure holds the operation and method, never the rendered path, query or error internals', async (t) => {
  const answered = answeredFailure(request, 500)
  t.same(answered, { operation: 'get-asset-id', method: 'GET', status: 500, code: null, reason: null, message: 'Evercycle answered 500', requestId: 'req-1' })
  const cause = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' })
  const err = domainError('upstream_unavailable', 'Evercycle is unreachable', { details: { reason: 'connection_refused' }, cause })
  const transport = transportFailure({ method: 'POST', path: '/v1/auth/signin', body: '{"password":"p"}', operation: 'auth.signin' }, err)
  t.same(transport, { operation: 'auth.signin', method: 'POST', status: null, code: 'upstream_unavailable', reason: 'connection_refused', message: 'Evercycle is unreachable', requestId: null })
  t.notMatch(JSON.stringify([answered, transport]), /a-value|query-value|password|ECONNREFUSED|10\.0\.0\.1/)
})

tap.test('observeActivity tells the first observer everything, and the activity too', async (t) => {
  const seen: string[] = []
  const metrics: UpstreamObserver = {
    exchange: (operation, outcome) => void seen.push(`exchange ${operation} ${outcome}`),
    authentication: (kind, ok) => void seen.push(`auth ${kind} ${ok}`)
  }
  const activity = new UpstreamActivity()
  const observer = observeActivity(metrics, activity)
  observer.exchange('get-all', '200', 0.01)
  observer.authentication('signin', true)
  observer.failed?.(answeredFailure(request, 500))
  t.same(seen, ['exchange get-all 200', 'auth signin true'])
  t.equal(activity.snapshot().failures, 1)
  t.type(activity.snapshot().lastSuccessAt, 'number')
  const alone = observeActivity(undefined, activity)
  alone.exchange('get-all', '201', 0)
  alone.authentication('refresh', false)
  alone.failed?.(answeredFailure(request, 502))
  t.equal(activity.snapshot().failures, 2, 'works without a first observer')
})

tap.test('refreshDueAt is where isUsable turns: the skew before expiry, at most half the lifetime', async (t) => {
  const set = (lifetimeMs: number): TokenSet => ({ accessToken: 'a', idToken: 'i', refreshToken: 'r', obtainedAt: 0, expiresAt: lifetimeMs })
  t.equal(refreshDueAt(set(3_600_000), 60_000), 3_540_000)
  t.equal(refreshDueAt(set(10_000), 60_000), 5_000, 'a short-lived set: half its lifetime')
  for (const tokens of [set(3_600_000), set(10_000)]) {
    const due = refreshDueAt(tokens, 60_000)
    t.ok(isUsable(tokens, 60_000, due - 1))
    t.notOk(isUsable(tokens, 60_000, due))
  }
})
