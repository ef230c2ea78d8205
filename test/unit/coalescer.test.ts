import tap from 'tap'
import type { UpstreamSignal } from '../../src/evercycle/client.js'
import { AbortEmitter } from '../../src/evercycle/upstream/abort-emitter.js'
import { Coalescer } from '../../src/evercycle/upstream/coalescer.js'

interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets every pending promise callback run (not a sleep: no time passes that anything depends on). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** An upstream call the test answers by hand, counting how often it was started and with which signal. */
function upstream<T>() {
  const calls: Array<{ answer: Deferred<T>; signal: UpstreamSignal }> = []
  const fn = (signal: UpstreamSignal): Promise<T> => {
    const answer = deferred<T>()
    calls.push({ answer, signal })
    return answer.promise
  }
  return { fn, calls }
}

tap.test('concurrent callers with one key share one call and its value', async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const waits = Array.from({ length: 200 }, () => c.run('k', fn))
  await settle()
  t.equal(calls.length, 1, 'one upstream call for 200 callers')
  t.equal(c.inFlight, 1)
  calls[0]?.answer.resolve('list')
  const results = await Promise.all(waits)
  t.same(results[0], { value: 'list', shared: false }, 'the first caller started it')
  t.ok(results.slice(1).every((r) => r.value === 'list' && r.shared), 'the others shared it')
  t.equal(c.coalesced, 199)
  t.equal(c.inFlight, 0)
})

tap.test('different keys never share', async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const a = c.run('identity-1', fn)
  const b = c.run('identity-2', fn)
  await settle()
  t.equal(calls.length, 2)
  calls[0]?.answer.resolve('one')
  calls[1]?.answer.resolve('two')
  t.same(await Promise.all([a, b]), [
    { value: 'one', shared: false },
    { value: 'two', shared: false }
  ])
  t.equal(c.coalesced, 0)
})

tap.test('a rejection is shared by every waiter', async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const waits = [c.run('k', fn), c.run('k', fn), c.run('k', fn)]
  await settle()
  const failure = new Error('upstream 503')
  calls[0]?.answer.reject(failure)
  for (const wait of waits) await t.rejects(wait, failure)
  t.equal(calls.length, 1)
})

tap.test('a synchronous throw in fn is a shared rejection, and leaves nothing behind', async (t) => {
  const c = new Coalescer<string>()
  const boom = new Error('bad request shape')
  const fn = (): Promise<string> => {
    throw boom
  }
  await Promise.all([t.rejects(c.run('k', fn), boom), t.rejects(c.run('k', fn), boom)])
  t.equal(c.inFlight, 0)
  t.same(await c.run('k', async () => 'ok'), { value: 'ok', shared: false })
})

tap.test('once settled, the next call starts anew, even from a waiter reacting to the outcome', async (t) => {
  const c = new Coalescer<number>()
  let started = 0
  const fn = async (): Promise<number> => ++started
  const first = await c.run('k', fn)
  t.same(first, { value: 1, shared: false })
  t.same(await c.run('k', fn), { value: 2, shared: false })
  const again = await c.run('k', fn).then(() => c.run('k', fn))
  t.same(again, { value: 4, shared: false }, 'the entry was gone before the waiter saw the value')
  const retried = await c
    .run('k', async () => {
      throw new Error('x')
    })
    .catch(() => c.run('k', fn))
  t.same(retried, { value: 5, shared: false }, 'and before it saw a rejection')
})

tap.test('a waiter whose signal fires stops waiting; the call goes on for the others', async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const leaving = new AbortController()
  const first = c.run('k', fn, leaving.signal) // the caller that started the call leaves
  const staying = c.run('k', fn, new AbortController().signal)
  const plain = c.run('k', fn)
  await settle()
  leaving.abort()
  const err = await first.then(
    () => undefined,
    (e: unknown) => e
  )
  t.ok(err instanceof Error && err.name === 'AbortError', 'an AbortError')
  t.equal(calls[0]?.signal.aborted, false, 'the shared call was not cancelled')
  calls[0]?.answer.resolve('list')
  t.same(await staying, { value: 'list', shared: true })
  t.same(await plain, { value: 'list', shared: true })
  t.equal(calls.length, 1)
})

tap.test("a waiter's own abort reason is what it gets", async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const controller = new AbortController()
  const wait = c.run('k', fn, controller.signal)
  const other = c.run('k', fn)
  const reason = new Error('client went away')
  controller.abort(reason)
  await t.rejects(wait, reason)
  await settle()
  calls[0]?.answer.resolve('v')
  await other
})

tap.test('an already aborted signal neither starts nor joins a call', async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  await t.rejects(c.run('k', fn, AbortSignal.abort()), { name: 'AbortError' })
  await settle()
  t.equal(calls.length, 0)
  t.equal(c.inFlight, 0)
  t.equal(c.coalesced, 0)
})

tap.test('when every waiter has left, the call is told (its own signal), and the next caller starts anew', async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const a = new AbortController()
  const b = new AbortController()
  const waits = [c.run('k', fn, a.signal), c.run('k', fn, b.signal)]
  await settle()
  a.abort()
  t.equal(calls[0]?.signal.aborted, false, 'one waiter is still there')
  b.abort()
  t.equal(calls[0]?.signal.aborted, true, 'nobody is left to use the answer')
  for (const wait of waits) await t.rejects(wait, { name: 'AbortError' })
  t.equal(c.inFlight, 0)
  const next = c.run('k', fn)
  await settle()
  t.equal(calls.length, 2, 'a later caller does not join the cancelled call')
  calls[0]?.answer.reject(new Error('aborted'))
  calls[1]?.answer.resolve('fresh')
  t.same(await next, { value: 'fresh', shared: false })
  t.equal(c.inFlight, 0, 'the cancelled call settling late removes nothing it should not')
})

tap.test('a waiter without a signal keeps the call alive whoever else leaves', async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const plain = c.run('k', fn)
  const controller = new AbortController()
  const leaving = c.run('k', fn, controller.signal)
  controller.abort()
  await t.rejects(leaving)
  await settle()
  t.equal(calls[0]?.signal.aborted, false)
  calls[0]?.answer.resolve('v')
  t.same(await plain, { value: 'v', shared: false })
})

tap.test('a signal firing after the answer changes nothing', async (t) => {
  const c = new Coalescer<string>()
  const controller = new AbortController()
  const result = await c.run('k', async () => 'v', controller.signal)
  controller.abort()
  t.same(result, { value: 'v', shared: false })
  t.equal(c.inFlight, 0)
})

tap.test("a waiter's signal may be an emitter (the gateway's per-connection one): it stops that wait only", async (t) => {
  const c = new Coalescer<string>()
  const { fn, calls } = upstream<string>()
  const gone = new AbortEmitter()
  const leaving = c.run('k', fn, gone)
  const staying = c.run('k', fn, new AbortEmitter())
  await settle()
  gone.abort()
  await t.rejects(leaving, { name: 'AbortError' })
  t.equal(calls[0]?.signal.aborted, false, 'the shared call goes on for the waiter left')
  t.equal(gone.listenerCount('abort'), 0, 'the aborted waiter left no listener behind')
  calls[0]?.answer.resolve('v')
  t.same(await staying, { value: 'v', shared: true })
})
