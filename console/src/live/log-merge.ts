import type { LogLine } from '../api/types.js'

function keyOf(line: LogLine): string {
  // the stored line and the published one carry the same instant; parsing evens out how each spells it
  return `${Date.parse(line.timestamp)}|${line.level}|${line.node_id ?? ''}|${line.message}`
}

/**
 * The stored lines (read from the API, oldest first) followed by the live ones they do not already hold. A
 * line can come both ways (published while the page was reading the log), so each stored line cancels one
 * identical live line.
 */
export function mergeLogs(stored: readonly LogLine[], live: readonly LogLine[]): { lines: LogLine[]; liveFrom: number } {
  const seen = new Map<string, number>()
  for (const line of stored) {
    const k = keyOf(line)
    seen.set(k, (seen.get(k) ?? 0) + 1)
  }
  const extra: LogLine[] = []
  for (const line of live) {
    const k = keyOf(line)
    const n = seen.get(k) ?? 0
    if (n > 0) seen.set(k, n - 1)
    else extra.push(line)
  }
  return { lines: [...stored, ...extra], liveFrom: stored.length }
}

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type Level = (typeof LEVELS)[number]

/** Whether a line is at least this level: the API's `level` filter means the same. */
export function atLeast(line: LogLine, level: Level): boolean {
  const rank = LEVELS.indexOf(line.level as Level)
  return rank === -1 || rank >= LEVELS.indexOf(level)
}
