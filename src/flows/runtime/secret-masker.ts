/**
 * The forms a value takes once a node has used it: in a query string (percent- or form-encoded), in a URL
 * path, inside a JSON string. A receiver that echoes its query, or a logged URL, shows these, and each
 * reveals the secret as surely as the value itself.
 */
function encodedForms(value: string): string[] {
  const forms = [value, JSON.stringify(value).slice(1, -1), new URLSearchParams({ v: value }).toString().slice(2)]
  try {
    forms.push(encodeURIComponent(value), encodeURI(value))
  } catch {
    // a lone surrogate has no percent-encoding: nothing could have sent it that way
  }
  return forms
}

/**
 * Replaces every resolved secret value with `***` wherever an execution writes: logs, node results, the
 * execution result, errors, WebSocket messages. Values shorter than 4 characters are not masked (masking "a"
 * would shred every text) and are rejected at secret creation instead.
 */
export class SecretMasker {
  private values: string[] = []

  add(value: string): void {
    if (value.length < 4) return
    for (const form of encodedForms(value)) if (!this.values.includes(form)) this.values.push(form)
    // longest first, so a secret that contains another is masked whole
    this.values.sort((a, b) => b.length - a.length)
  }

  get active(): boolean {
    return this.values.length > 0
  }

  text(value: string): string {
    let out = value
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join('***')
    return out
  }

  /** A deep copy with secrets masked in every string (keys included). */
  value<T>(input: T): T {
    if (!this.active) return input
    return this.walk(input, 0) as T
  }

  private walk(input: unknown, depth: number): unknown {
    if (typeof input === 'string') return this.text(input)
    if (depth > 100 || input === null || typeof input !== 'object') return input
    if (Array.isArray(input)) return input.map((v) => this.walk(v, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(input)) out[this.text(k)] = this.walk(v, depth + 1)
    return out
  }
}
