/**
 * Environment variables the server does not read that are ours all the same, so a name among them is no typo:
 * the `evercycle` CLI's own (src/cli), what Caddy reads from the same `.env` (docker compose hands every line to
 * the gateway too), the test suite's (docs/testing.md), and the demo's mark on its own server process. test/unit/env-names.test.ts keeps this list honest:
 * it finds every such name the repository reads.
 */
export const READ_ELSEWHERE: readonly string[] = [
  'EVERCYCLE_GATEWAY_URL',
  'EVERCYCLE_GATEWAY_API_KEY',
  'EVERCYCLE_HISTORY_FILE',
  'EVERCYCLE_HISTORY_MAX_BYTES',
  'EVERCYCLE_STATE_DIR',
  'FLOWRUNNER_URL',
  'FLOWRUNNER_EMAIL',
  'GATEWAY_UPSTREAMS',
  'FLOWRUNNER_TEST_DATABASE_URL',
  'EVERCYCLE_DEMO_SERVER'
]

/**
 * Prefixes that belong to this project whatever follows them: any unknown name under one is a mistake. The other
 * prefixes the settings use (`SESSION_`, `MAX_`, `NODE_`...) are words other software uses too (`SESSION_MANAGER`,
 * `NODE_OPTIONS`), so under those only a name a typo away from a setting is reported.
 */
export const OWN_PREFIXES: readonly string[] = ['EVERCYCLE_', 'FLOWRUNNER_', 'GATEWAY_', 'UPSTREAM_']

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`: optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      const row = d[i]
      if (row !== undefined) row[j] = best
    }
  }
  return at(a.length, b.length)
}

/** The known name fewest edits away (the first in `known` order on a tie), with its distance. */
export function closestName(name: string, known: readonly string[]): { name: string; distance: number } | undefined {
  let best: { name: string; distance: number } | undefined
  for (const candidate of known) {
    const distance = editDistance(name, candidate)
    if (best === undefined || distance < best.distance) best = { name: candidate, distance }
  }
  return best
}

/** How many edits still count as a typo of a name this long: one for short names, two from ten characters on. */
export function typoDistance(name: string): number {
  return name.length >= 10 ? 2 : 1
}

export interface UnknownVariable {
  name: string
  /** The known setting it is closest to. */
  suggestion: string | undefined
}

/**
 * Variables in `env` that look like settings but are none: under one of our own prefixes and unknown, or under
 * another prefix the settings use and a typo away from one of them. Names only: values are never looked at.
 */
export function unknownVariables(env: NodeJS.ProcessEnv, settings: readonly string[]): UnknownVariable[] {
  const known = new Set([...settings, ...READ_ELSEWHERE])
  const prefixes = new Set(settings.map((s) => /^[A-Z0-9]+_/.exec(s)?.[0]).filter((p): p is string => p !== undefined))
  const found: UnknownVariable[] = []
  for (const name of Object.keys(env).sort()) {
    if (known.has(name)) continue
    const prefix = /^[A-Z0-9]+_/.exec(name)?.[0]
    if (prefix === undefined || !prefixes.has(prefix)) continue
    const closest = closestName(name, settings)
    const isTypo = closest !== undefined && closest.distance <= typoDistance(name)
    if (!OWN_PREFIXES.includes(prefix) && !isTypo) continue
    found.push({ name, suggestion: closest?.name })
  }
  return found
}
