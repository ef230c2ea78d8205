/** A date and time in the reader's locale, or a dash. */
export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

/** "3 s", "2 min 5 s", "120 ms". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 100) / 10
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

/** "in 4 min", "12 s ago". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return '—'
  const diff = Date.parse(iso) - now
  if (Number.isNaN(diff)) return iso
  const text = duration(Math.abs(diff))
  return diff >= 0 ? `in ${text}` : `${text} ago`
}

/** JSON for people, two-space indented. */
export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null'
}
