import { test } from 'tap'
import { envNumber } from '../../bench/lib/env.js'

test('a bench setting: the fallback when unset or empty, the number when positive, an error naming it otherwise', async (t) => {
  const name = 'EVERCYCLE_TEST_BENCH_SETTING'
  t.teardown(() => {
    delete process.env[name]
  })
  delete process.env[name]
  t.equal(envNumber(name, 7), 7)
  process.env[name] = ''
  t.equal(envNumber(name, 7), 7)
  process.env[name] = '2.5'
  t.equal(envNumber(name, 7), 2.5)
  for (const bad of ['0', '-1', 'ten', 'Infinity']) {
    process.env[name] = bad
    t.throws(() => envNumber(name, 7), { message: `${name} must be a positive number, got ${JSON.stringify(bad)}` })
  }
})
