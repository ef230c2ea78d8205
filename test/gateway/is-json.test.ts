import t from 'tap'
import { isJson } from '../../src/evercycle/is-json.js'
import { CASES, label, mutations, parses } from '../helpers/json-cases.js'

t.test('agrees with JSON.parse on valid and invalid texts', async (t) => {
  for (const text of CASES) t.equal(isJson(Buffer.from(text)), parses(text), label(text))
})

t.test('agrees with JSON.parse on mutations of a real answer', async (t) => {
  let disagreements = 0
  let valid = 0
  for (const text of mutations(20_000)) {
    const expected = parses(text)
    if (expected) valid++
    if (isJson(Buffer.from(text)) !== expected) {
      disagreements++
      if (disagreements < 5) t.fail(`disagrees on ${label(text)}`)
    }
  }
  t.equal(disagreements, 0)
  t.ok(valid > 100, `some mutations stay valid (${valid})`)
})

t.test('deep nesting costs no call stack', async (t) => {
  const depth = 200_000
  t.equal(isJson(Buffer.from('['.repeat(depth) + ']'.repeat(depth))), true)
  t.equal(isJson(Buffer.from('['.repeat(depth) + ']'.repeat(depth - 1))), false)
})
