import t from 'tap'
import { isJson } from '../../src/evercycle/is-json.js'

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** ASCII only: a U+2028 in a test name would break the TAP stream. */
function label(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

const CASES = [
  '{}', '[]', '""', '0', '-0', '1.5e-3', '-12.0E+7', 'true', 'false', 'null', ' \t\r\n{"a" : [1, {"b":null}] }\n',
  '{"assets":[{"id":"1","name":"x\\u00e9\\n\\"q\\"","n":-1.25e10,"ok":true,"z":[]}],"total":1}',
  '"é 😀 \u2028"', '[[[[[[]]]]]]', '{"a":{"b":{"c":{}}}}',
  // invalid
  '', ' ', '{', '}', '[', ']', '{]', '[}', '[1,]', '{"a":1,}', '{,}', '[,1]', '{"a"}', '{"a":}', '{a:1}', "{'a':1}",
  '01', '1.', '.5', '-', '+1', '1e', '1e+', '0x10', 'NaN', 'Infinity', 'tru', 'truee', 'nul', 'True', 'undefined',
  '"abc', '"a\\x"', '"\\u12"', '"\\u12g4"', '"a\tb"', '"a\nb"', '1 2', '{} {}', '[]]', '"\\', '[1 2]', '{"a" 1}',
  '{"a":1 "b":2}', '\u00a0{}', '{}\u00a0', '[-]', '[01]', '[1.e5]', '"\\u0000"'
]

t.test('agrees with JSON.parse on valid and invalid texts', async (t) => {
  for (const text of CASES) t.equal(isJson(Buffer.from(text)), parses(text), label(text))
})

t.test('agrees with JSON.parse on mutations of a real answer', async (t) => {
  const base = JSON.stringify({ assets: [{ id: '1001', name: 'MacBook "Pro"\n14', price: -1.5e3, tags: ['a', 'b'], ok: true, gone: null }], total: 1 })
  const alphabet = '{}[]",:-+.0123456789eEtrufalsn \\/u\n\t'
  // a fixed LCG, so a failure reproduces
  let seed = 12345
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  let disagreements = 0
  let valid = 0
  for (let round = 0; round < 20_000; round++) {
    const chars = [...base]
    for (let k = 1 + next(3); k > 0; k--) {
      const at = next(chars.length)
      const op = next(3)
      const ch = alphabet[next(alphabet.length)] ?? ' '
      if (op === 0) chars[at] = ch
      else if (op === 1) chars.splice(at, 1)
      else chars.splice(at, 0, ch)
    }
    const text = chars.join('')
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
