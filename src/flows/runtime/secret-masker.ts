/**
 * The shortest secret value an account may store. Masking a short value would shred every text it appears in
 * by chance ("abc" in "abcdef"), and a short value could not be masked reliably, so it is refused at creation
 * (422) and never masked; both sides read this one constant.
 */
export const SECRET_VALUE_MIN_LENGTH = 8

/**
 * How the WHATWG URL parser (`new URL()`, and so every `url.href` a node logs or returns) writes the value
 * where a flow can put it: in a query, a path, a fragment, a user name or password. The parser leaves more
 * characters as they are than `encodeURI` does (`|`, `^`, `{` in a query), so its forms are their own. Each
 * form is what follows a fixed prefix in `href`, so a value holding `#` or `?` is matched across the parts it
 * spills into. A value the parser rewrites beyond that (dot segments, backslashes in a path) is not matched.
 */
function urlForms(value: string): string[] {
  const forms: string[] = []
  for (const prefix of ['http://x/?k=', 'http://x/', 'http://x/#']) {
    try {
      const href = new URL(prefix + value).href
      if (href.startsWith(prefix)) forms.push(href.slice(prefix.length))
    } catch {
      // not a URL in this position: nothing could have logged it there
    }
  }
  const credentials = new URL('http://x/')
  credentials.username = value
  credentials.password = value
  forms.push(credentials.username, credentials.password)
  return forms
}

/**
 * The forms a value takes once a node has used it: in a query string (percent- or form-encoded, or as the URL
 * parser writes it), in a URL path, inside a JSON string. A receiver that echoes its query, or a logged URL,
 * shows these, and each reveals the secret as surely as the value itself.
 */
function encodedForms(value: string): string[] {
  const forms = [value, JSON.stringify(value).slice(1, -1), new URLSearchParams({ v: value }).toString().slice(2), ...urlForms(value)]
  try {
    forms.push(encodeURIComponent(value), encodeURI(value))
  } catch {
    // a lone surrogate has no percent-encoding: nothing could have sent it that way
  }
  // a form the parser shortened (dot segments) must not shred texts any more than a short secret would
  return forms.filter((form) => form.length >= SECRET_VALUE_MIN_LENGTH)
}

/** `out[key] = value`, except that a `__proto__` key stays a key instead of replacing the copy's prototype. */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

/**
 * Replaces every resolved secret value with `***` wherever an execution writes: logs, node results, the
 * execution result, errors, WebSocket messages. Values shorter than SECRET_VALUE_MIN_LENGTH are not masked
 * (masking "a" would shred every text) and are refused at secret creation instead.
 */
export class SecretMasker {
  private values: string[] = []

  /** A masker for every value of a flow scope's `secrets`. */
  static of(values: Iterable<string>): SecretMasker {
    const masker = new SecretMasker()
    for (const value of values) masker.add(value)
    return masker
  }

  add(value: string): void {
    if (value.length < SECRET_VALUE_MIN_LENGTH) return
    for (const form of encodedForms(value)) if (!this.values.includes(form)) this.values.push(form)
    // longest first, so a secret that contains another is masked whole
    this.values.sort((a, b) => b.length - a.length)
  }

  get active(): boolean {
    return this.values.length > 0
  }

  /** Whether `value` holds a secret in any of the forms masked. */
  contains(value: string): boolean {
    return this.values.some((secret) => value.includes(secret))
  }

  text(value: string): string {
    let out = value
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join('***')
    return out
  }

  /** A deep copy with secrets masked in every string (keys included). */
  value<T>(input: T): T {
    if (!this.active) return input
    return this.walk(input) as T
  }

  /**
   * Iterative (an explicit stack), so a value of any depth is masked whole: a flow can build one deeper than
   * any recursion limit. A container met twice (shared, or a cycle) is copied once and its copy reused.
   */
  private walk(input: unknown): unknown {
    if (typeof input === 'string') return this.text(input)
    if (input === null || typeof input !== 'object') return input
    const copies = new Map<object, unknown[] | Record<string, unknown>>()
    const stack: Array<{ from: object; to: unknown[] | Record<string, unknown> }> = []
    const copy = (value: unknown): unknown => {
      if (typeof value === 'string') return this.text(value)
      if (value === null || typeof value !== 'object') return value
      let out = copies.get(value)
      if (out === undefined) {
        out = Array.isArray(value) ? [] : {}
        copies.set(value, out)
        stack.push({ from: value, to: out })
      }
      return out
    }
    const root = copy(input)
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      const { from, to } = item
      if (Array.isArray(from)) for (const v of from) (to as unknown[]).push(copy(v))
      else for (const [k, v] of Object.entries(from)) setOwn(to as Record<string, unknown>, this.text(k), copy(v))
    }
    return root
  }
}
