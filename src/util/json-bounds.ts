/** How big a JSON value may be: its serialised size in bytes and how deeply objects and arrays nest. */
export interface JsonLimits {
  maxBytes: number
  maxDepth: number
}

export type BoundsVerdict = { ok: true; bytes: number } | { ok: false; code: 'result_too_large' | 'result_too_deep'; message: string }

/** UTF-8 bytes of a string as JSON writes it, give or take escapes (a lower bound: quotes counted, escapes not). */
function stringBytes(s: string, max: number): number {
  // UTF-8 never takes fewer bytes than UTF-16 code units: a string longer than the limit is not measured
  return (s.length > max ? s.length : Buffer.byteLength(s, 'utf8')) + 2
}

function scalarBytes(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value).length : 4
  if (typeof value === 'boolean') return value ? 4 : 5
  return 4 // null, and what JSON drops or writes as null
}

/**
 * Measures `value` as JSON without serialising it and without recursion (a 100,000-deep value is walked like a
 * flat one), stopping as soon as a limit is passed: the cost is bounded by the limits, not by the value.
 */
export function checkJsonBounds(value: unknown, limits: JsonLimits, what = 'Value'): BoundsVerdict {
  let bytes = 0
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }]
  while (stack.length > 0) {
    const top = stack.pop() as { value: unknown; depth: number }
    const v = top.value
    if (typeof v === 'string') bytes += stringBytes(v, limits.maxBytes)
    else if (v === null || typeof v !== 'object') bytes += scalarBytes(v)
    else {
      const depth = top.depth + 1
      if (depth > limits.maxDepth) {
        return { ok: false, code: 'result_too_deep', message: `${what} nests deeper than ${limits.maxDepth} levels` }
      }
      if (Array.isArray(v)) {
        bytes += 2 + Math.max(0, v.length - 1)
        for (let i = v.length - 1; i >= 0 && bytes <= limits.maxBytes; i--) stack.push({ value: v[i], depth })
      } else {
        const keys = Object.keys(v)
        bytes += 2 + Math.max(0, keys.length - 1)
        for (const key of keys) {
          if (bytes > limits.maxBytes) break
          bytes += stringBytes(key, limits.maxBytes) + 1
          stack.push({ value: (v as Record<string, unknown>)[key], depth })
        }
      }
    }
    if (bytes > limits.maxBytes) {
      return { ok: false, code: 'result_too_large', message: `${what} is larger than ${limits.maxBytes} bytes as JSON` }
    }
  }
  return { ok: true, bytes }
}

/** Cuts a text to `max` characters, saying how much was cut. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}… (${text.length - max} more characters)`
}
