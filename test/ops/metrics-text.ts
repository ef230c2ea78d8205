/** Reading Prometheus text exposition in tests: one sample's value, by name and exact labels. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const have = new Map([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
    if (have.size === wanted.length && wanted.every(([k, v]) => have.get(k) === v)) return Number(match[3])
  }
  return undefined
}

export const METRICS_TOKEN = 'metrics-token-0123456789abcdef'
export const BEARER = { authorization: `Bearer ${METRICS_TOKEN}` }
