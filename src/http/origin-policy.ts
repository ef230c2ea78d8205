/**
 * The origin allow-list. Entries are exact origins (`https://ui.veraetime.net`) or one-label wildcards
 * (`https://*.ngrok.io`): the wildcard stands for exactly one DNS label, the scheme must match, and the port
 * must match the entry's (none unless the entry names one). `null` and anything that is not a bare origin
 * never match.
 */
interface Rule {
  scheme: string
  /** Exact host, or the domain after `*.` for a wildcard. */
  host: string
  port: string
  wildcard: boolean
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

function parseOrigin(value: string): { scheme: string; host: string; port: string } | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  // a bare origin only: no path, query, fragment or credentials, and already in canonical form
  if (url.origin !== value.toLowerCase() || url.username !== '' || url.password !== '') return undefined
  return { scheme: url.protocol, host: url.hostname, port: url.port }
}

export function parseRule(entry: string): Rule {
  const wildcard = /^(https?):\/\/\*\.(.+)$/i.exec(entry)
  if (wildcard !== null) {
    const parsed = parseOrigin(`${wildcard[1]}://${wildcard[2]}`.toLowerCase())
    if (parsed === undefined) throw new Error(`Invalid CORS origin entry: ${entry}`)
    return { ...parsed, wildcard: true }
  }
  const parsed = parseOrigin(entry.toLowerCase().replace(/\/$/, ''))
  if (parsed === undefined) throw new Error(`Invalid CORS origin entry: ${entry}`)
  return { ...parsed, wildcard: false }
}

export class OriginPolicy {
  private readonly rules: Rule[]

  constructor(entries: readonly string[]) {
    this.rules = entries.map(parseRule)
  }

  allows(origin: string | undefined): boolean {
    if (origin === undefined || origin === '' || origin === 'null') return false
    const o = parseOrigin(origin)
    if (o === undefined) return false
    return this.rules.some((r) => {
      if (r.scheme !== o.scheme || r.port !== o.port) return false
      if (!r.wildcard) return r.host === o.host
      if (!o.host.endsWith(`.${r.host}`)) return false
      return LABEL.test(o.host.slice(0, -(r.host.length + 1)))
    })
  }
}
