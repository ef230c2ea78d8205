/**
 * An incremental JSON syntax checker: bytes go in chunk by chunk, nothing is kept but a nesting stack, so a
 * body of any size can be streamed through the envelope and still be proven well-formed. UTF-8 is passed
 * through unchecked (bytes >= 0x80 are accepted inside strings only).
 */
const enum S {
  Value,
  AfterValue,
  ObjectKeyOrEnd,
  ObjectKey,
  Colon,
  String,
  StringEscape,
  StringUnicode,
  Number,
  Literal,
  Done,
  Invalid
}

const WS = new Uint8Array(256)
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1
const NUMBER_CHAR = new Uint8Array(256)
for (const c of '0123456789+-.eE') NUMBER_CHAR[c.charCodeAt(0)] = 1
const ESCAPES = new Uint8Array(256)
for (const c of '"\\/bfnrt') ESCAPES[c.charCodeAt(0)] = 1
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

export class JsonSyntaxChecker {
  private state: S = S.Value
  /** Open containers: 0x7b '{' or 0x5b '['. */
  private readonly stack: number[] = []
  /** Whether the string being read is an object key (so a colon follows). */
  private stringIsKey = false
  private hexLeft = 0
  private number = ''
  private literal = ''
  private literalAt = 0

  get valid(): boolean {
    return this.state !== S.Invalid
  }

  /** Feeds bytes; returns false as soon as the input can no longer be valid JSON. */
  push(chunk: Uint8Array): boolean {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number
      switch (this.state) {
        case S.String:
          if (c === 0x22) this.endString()
          else if (c === 0x5c) this.state = S.StringEscape
          else if (c < 0x20) return this.fail()
          break
        case S.StringEscape:
          if (c === 0x75) {
            this.state = S.StringUnicode
            this.hexLeft = 4
          } else if (ESCAPES[c] === 1) this.state = S.String
          else return this.fail()
          break
        case S.StringUnicode:
          if (!isHex(c)) return this.fail()
          if (--this.hexLeft === 0) this.state = S.String
          break
        case S.Number:
          if (NUMBER_CHAR[c] === 1) {
            if (this.number.length > 512) return this.fail()
            this.number += String.fromCharCode(c)
            break
          }
          if (!NUMBER.test(this.number)) return this.fail()
          this.afterValue()
          i--
          break
        case S.Literal:
          if (c !== this.literal.charCodeAt(this.literalAt)) return this.fail()
          if (++this.literalAt === this.literal.length) this.afterValue()
          break
        case S.Value:
          if (WS[c] === 1) break
          if (!this.startValue(c)) return this.fail()
          break
        case S.AfterValue:
          if (WS[c] === 1) break
          if (c === 0x2c) {
            this.state = this.stack[this.stack.length - 1] === 0x7b ? S.ObjectKey : S.Value
          } else if ((c === 0x7d || c === 0x5d) && this.stack[this.stack.length - 1] === (c === 0x7d ? 0x7b : 0x5b)) {
            this.stack.pop()
            this.afterValue()
          } else return this.fail()
          break
        case S.ObjectKeyOrEnd:
          if (WS[c] === 1) break
          if (c === 0x7d) {
            this.stack.pop()
            this.afterValue()
          } else if (c === 0x22) this.startString(true)
          else return this.fail()
          break
        case S.ObjectKey:
          if (WS[c] === 1) break
          if (c === 0x22) this.startString(true)
          else return this.fail()
          break
        case S.Colon:
          if (WS[c] === 1) break
          if (c !== 0x3a) return this.fail()
          this.state = S.Value
          break
        case S.Done:
          if (WS[c] !== 1) return this.fail()
          break
        case S.Invalid:
          return false
      }
    }
    return true
  }

  /** Call once the input ended: true when it held exactly one complete JSON value. */
  end(): boolean {
    if (this.state === S.Number) {
      if (!NUMBER.test(this.number)) return this.fail()
      this.afterValue()
    }
    return this.state === S.Done
  }

  private startValue(c: number): boolean {
    if (c === 0x7b) {
      this.stack.push(0x7b)
      this.state = S.ObjectKeyOrEnd
    } else if (c === 0x5b) {
      this.stack.push(0x5b)
      this.state = S.Value
      // an empty array closes straight away: peek is handled by treating ']' in Value below
      this.allowEmptyArray = true
      return true
    } else if (c === 0x5d && this.allowEmptyArray) {
      this.stack.pop()
      this.afterValue()
    } else if (c === 0x22) this.startString(false)
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.number = String.fromCharCode(c)
      this.state = S.Number
    } else if (c === 0x74) this.startLiteral('true')
    else if (c === 0x66) this.startLiteral('false')
    else if (c === 0x6e) this.startLiteral('null')
    else return false
    this.allowEmptyArray = false
    return true
  }

  private allowEmptyArray = false

  private startString(isKey: boolean): void {
    this.stringIsKey = isKey
    this.state = S.String
  }

  private endString(): void {
    if (this.stringIsKey) {
      this.stringIsKey = false
      this.state = S.Colon
    } else this.afterValue()
  }

  private startLiteral(word: string): void {
    this.literal = word
    this.literalAt = 1
    this.state = S.Literal
  }

  private afterValue(): void {
    this.state = this.stack.length === 0 ? S.Done : S.AfterValue
  }

  private fail(): false {
    this.state = S.Invalid
    return false
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}
