/** The JSON texts both checkers (`isJson`, `JsonSyntaxChecker`) are held to: JSON.parse's verdict on each. */

export function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** ASCII only: a U+2028 in a test name would break the TAP stream. */
export function label(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

export const CASES = [
  '{}', '[]', '""', '0', '-0', '1.5e-3', '-12.0E+7', 'true', 'false', 'null', ' \t\r\n{"a" : [1, {"b":null}] }\n',
  '{"assets":[{"id":"1","name":"x\\u00e9\\n\\"q\\"","n":-1.25e10,"ok":true,"z":[]}],"total":1}',
  '"é 😀 \u2028"', '[[[[[[]]]]]]', '{"a":{"b":{"c":{}}}}',
  // invalid
  '', ' ', '{', '}', '[', ']', '{]', '[}', '[1,]', '{"a":1,}', '{,}', '[,1]', '{"a"}', '{"a":}', '{a:1}', "{'a':1}",
  '01', '1.', '.5', '-', '+1', '1e', '1e+', '0x10', 'NaN', 'Infinity', 'tru', 'truee', 'nul', 'True', 'undefined',
  '"abc', '"a\\x"', '"\\u12"', '"\\u12g4"', '"a\tb"', '"a\nb"', '1 2', '{} {}', '[]]', '"\\', '[1 2]', '{"a" 1}',
  '{"a":1 "b":2}', '\u00a0{}', '{}\u00a0', '[-]', '[01]', '[1.e5]', '"\\u0000"'
]

/**
 * `rounds` texts made by one to three random edits (replace, delete, insert a JSON-ish character) of a real
 * answer; a fixed LCG, so a failure reproduces.
 */
export function* mutations(rounds: number): Generator<string> {
  const base = JSON.stringify({ assets: [{ id: '1001', name: 'MacBook "Pro"\n14', price: -1.5e3, tags: ['a', 'b'], ok: true, gone: null }], total: 1 })
  const alphabet = '{}[]",:-+.0123456789eEtrufalsn \\/u\n\t'
  let seed = 12345
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  for (let round = 0; round < rounds; round++) {
    const chars = [...base]
    for (let k = 1 + next(3); k > 0; k--) {
      const at = next(chars.length)
      const op = next(3)
      const ch = alphabet[next(alphabet.length)] ?? ' '
      if (op === 0) chars[at] = ch
      else if (op === 1) chars.splice(at, 1)
      else chars.splice(at, 0, ch)
    }
    yield chars.join('')
  }
}
