/**
 * Whether the UTF-8 bytes `b` are exactly one JSON value (RFC 8259), surrounding whitespace allowed: what
 * `JSON.parse` accepts, decided on the bytes without decoding them or building the value. The envelope only
 * needs the yes/no for a body it passes on untouched, and JSON.parse allocates every object and string in it
 * (on a typical small answer, three times the cost of this scan). Bytes >= 0x80 are accepted inside strings
 * only, as in the streaming checker. Iterative, so nesting depth costs memory, not call stack.
 * (Indexing past the end yields undefined, read as -1: never a JSON character.)
 */
export function isJson(b: Uint8Array): boolean {
  const n = b.length
  // open containers, innermost last: true for an object
  const stack: boolean[] = []
  let i = skipWs(b, 0, n)
  for (;;) {
    // a value starts at i
    if (i >= n) return false
    let c = (b[i] ?? -1)
    if (c === 0x7b || c === 0x5b) {
      const isObject = c === 0x7b
      i = skipWs(b, i + 1, n)
      if ((b[i] ?? -1) === (isObject ? 0x7d : 0x5d)) {
        i++
      } else {
        stack.push(isObject)
        if (isObject) {
          i = objectKey(b, i, n)
          if (i < 0) return false
        }
        continue
      }
    } else if (c === 0x22) {
      i = stringEnd(b, i + 1, n)
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      i = numberEnd(b, i, n)
    } else if (c === 0x74) {
      i = literalEnd(b, i, TRUE)
    } else if (c === 0x66) {
      i = literalEnd(b, i, FALSE)
    } else if (c === 0x6e) {
      i = literalEnd(b, i, NULL)
    } else {
      return false
    }
    if (i < 0) return false
    // after a value: a separator, the end of containers, or the end of the text
    for (;;) {
      i = skipWs(b, i, n)
      if (stack.length === 0) return i === n
      c = (b[i] ?? -1)
      const inObject = stack[stack.length - 1] === true
      if (c === 0x2c) {
        i = skipWs(b, i + 1, n)
        if (inObject) {
          i = objectKey(b, i, n)
          if (i < 0) return false
        }
        break
      }
      if (c !== (inObject ? 0x7d : 0x5d)) return false
      stack.pop()
      i++
    }
  }
}

function skipWs(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = (b[i] ?? -1)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

/** `"key"` then `:` from i (at the key's quote); the index of the member's value, or -1. */
function objectKey(b: Uint8Array, i: number, n: number): number {
  if ((b[i] ?? -1) !== 0x22) return -1
  i = stringEnd(b, i + 1, n)
  if (i < 0) return -1
  i = skipWs(b, i, n)
  if ((b[i] ?? -1) !== 0x3a) return -1
  return skipWs(b, i + 1, n)
}

/** From just after an opening quote: the index after the closing quote, or -1. */
function stringEnd(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = (b[i++] ?? -1)
    if (c === 0x22) return i
    if (c === 0x5c) {
      const e = (b[i++] ?? -1)
      if (e === 0x75) {
        if (i + 4 > n || !isHex((b[i] ?? -1)) || !isHex((b[i + 1] ?? -1)) || !isHex((b[i + 2] ?? -1)) || !isHex((b[i + 3] ?? -1))) {
          return -1
        }
        i += 4
      } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        return -1
      }
    } else if (c < 0x20) {
      return -1
    }
  }
  return -1
}

/** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` from i; the index after it, or -1. */
function numberEnd(b: Uint8Array, i: number, n: number): number {
  if ((b[i] ?? -1) === 0x2d) i++
  if ((b[i] ?? -1) === 0x30) i++
  else {
    const start = i
    i = digitsEnd(b, i, n)
    if (i === start) return -1
  }
  if ((b[i] ?? -1) === 0x2e) {
    const start = ++i
    i = digitsEnd(b, i, n)
    if (i === start) return -1
  }
  const e = (b[i] ?? -1)
  if (e === 0x65 || e === 0x45) {
    i++
    const sign = (b[i] ?? -1)
    if (sign === 0x2b || sign === 0x2d) i++
    const start = i
    i = digitsEnd(b, i, n)
    if (i === start) return -1
  }
  return i
}

function digitsEnd(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = (b[i] ?? -1)
    if (c < 0x30 || c > 0x39) break
    i++
  }
  return i
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')
const NULL = Buffer.from('null')

function literalEnd(b: Uint8Array, i: number, literal: Uint8Array): number {
  if (i + literal.length > b.length) return -1
  for (let k = 0; k < literal.length; k++) if (b[i + k] !== literal[k]) return -1
  return i + literal.length
}
