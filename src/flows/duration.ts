import { Type } from '@sinclair/typebox'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/

/** Longest delay or timeout a flow may ask for: a week, the longest execution timeout allowed. */
export const MAX_DURATION_MS = 604_800_000

/** Milliseconds as a number, or text like "500ms", "5s", "2m", "1h", "1d" (a bare number in text is ms). */
export const DurationSchema = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: MAX_DURATION_MS }),
    Type.String({ pattern: '^\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)?$', description: 'e.g. "500ms", "5s", "2m", "1h"' })
  ],
  { description: 'Milliseconds, or a duration such as "5s" or "2m"' }
)

/** Milliseconds, or undefined when the text is not a duration or exceeds the maximum. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= MAX_DURATION_MS ? value : undefined
  const match = DURATION.exec(value.trim())
  if (match === null) return undefined
  const ms = Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] as number))
  return ms <= MAX_DURATION_MS ? ms : undefined
}
