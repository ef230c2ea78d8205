import t from 'tap'
import { isJson } from '../../src/evercycle/is-json.js'
import { JsonSyntaxChecker } from '../../src/evercycle/json-checker.js'
import { CASES, label, mutations } from '../helpers/json-cases.js'

/**
 * The streaming checker (what the envelope runs on a body too large to hold) must give `isJson`'s verdict
 * however the bytes arrive: all at once, one byte at a time, or cut in two anywhere.
 */
function whole(bytes: Uint8Array): boolean {
  const checker = new JsonSyntaxChecker()
  return checker.push(bytes) && checker.end()
}

function byteByByte(bytes: Uint8Array): boolean {
  const checker = new JsonSyntaxChecker()
  for (let i = 0; i < bytes.length; i++) if (!checker.push(bytes.subarray(i, i + 1))) return false
  return checker.end()
}

function cutAt(bytes: Uint8Array, at: number): boolean {
  const checker = new JsonSyntaxChecker()
  return checker.push(bytes.subarray(0, at)) && checker.push(bytes.subarray(at)) && checker.end()
}

t.test("gives isJson's verdict on every case, all at once and one byte at a time", async (t) => {
  for (const text of CASES) {
    const bytes = Buffer.from(text)
    const expected = isJson(bytes)
    t.equal(whole(bytes), expected, `whole ${label(text)}`)
    t.equal(byteByByte(bytes), expected, `bytewise ${label(text)}`)
  }
})

t.test('gives the same verdict wherever the input is cut in two', async (t) => {
  let disagreements = 0
  for (const text of CASES) {
    const bytes = Buffer.from(text)
    const expected = isJson(bytes)
    for (let at = 0; at <= bytes.length; at++) {
      if (cutAt(bytes, at) !== expected) {
        disagreements++
        t.fail(`cut at ${at}: ${label(text)}`)
      }
    }
  }
  t.equal(disagreements, 0)
})

t.test("gives isJson's verdict on mutations of a real answer", async (t) => {
  let disagreements = 0
  let valid = 0
  for (const text of mutations(20_000)) {
    const bytes = Buffer.from(text)
    const expected = isJson(bytes)
    if (expected) valid++
    if (whole(bytes) !== expected || byteByByte(bytes) !== expected) {
      disagreements++
      if (disagreements < 5) t.fail(`disagrees on ${label(text)}`)
    }
  }
  t.equal(disagreements, 0)
  t.ok(valid > 100, `some mutations stay valid (${valid})`)
})

t.test('once invalid it stays invalid, whatever follows', async (t) => {
  const checker = new JsonSyntaxChecker()
  t.equal(checker.push(Buffer.from('{"a":')), true)
  t.equal(checker.push(Buffer.from('}')), false, 'refused at the byte that breaks it')
  t.equal(checker.valid, false)
  t.equal(checker.push(Buffer.from('1}')), false, 'later bytes cannot repair it')
  t.equal(checker.end(), false)
})

t.test('deep nesting costs no call stack', async (t) => {
  const depth = 200_000
  t.equal(whole(Buffer.from('['.repeat(depth) + ']'.repeat(depth))), true)
  t.equal(whole(Buffer.from('['.repeat(depth) + ']'.repeat(depth - 1))), false)
})
