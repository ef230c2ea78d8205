import { useEffect, useState } from 'preact/hooks'

/**
 * Hash routes (`/console/#/flows/abc`): the server serves one document, and a deep link or a reload lands on
 * the same page. A route is a pattern such as `/flows/:id`; its `:names` become params.
 */
export interface Match {
  pattern: string
  params: Record<string, string>
  query: URLSearchParams
}

function current(): { path: string; query: URLSearchParams } {
  const hash = location.hash.replace(/^#/, '') || '/'
  const q = hash.indexOf('?')
  return q === -1 ? { path: hash, query: new URLSearchParams() } : { path: hash.slice(0, q), query: new URLSearchParams(hash.slice(q + 1)) }
}

export function match(patterns: readonly string[], path: string, query: URLSearchParams): Match | undefined {
  const parts = path.split('/').filter((p) => p !== '')
  for (const pattern of patterns) {
    const want = pattern.split('/').filter((p) => p !== '')
    if (want.length !== parts.length) continue
    const params: Record<string, string> = {}
    let ok = true
    want.forEach((w, i) => {
      const got = parts[i] ?? ''
      if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(got)
      else if (w !== got) ok = false
    })
    if (ok) return { pattern, params, query }
  }
  return undefined
}

/** The current location, re-rendering on every change. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [loc, setLoc] = useState(current)
  useEffect(() => {
    const onChange = (): void => setLoc(current())
    addEventListener('hashchange', onChange)
    return () => removeEventListener('hashchange', onChange)
  }, [])
  return loc
}

/** An href for a console route: `href('/flows', id)` → `#/flows/<id>`, with an optional query. */
export function href(...segments: Array<string | number>): string {
  return '#' + segments.map((s, i) => (i === 0 ? String(s) : encodeURIComponent(String(s)))).join('/')
}

export function withQuery(link: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v)
  const q = params.toString()
  return q === '' ? link : `${link}?${q}`
}

export function navigate(link: string, options: { replace?: boolean } = {}): void {
  if (options.replace === true) history.replaceState(null, '', link)
  else history.pushState(null, '', link)
  dispatchEvent(new HashChangeEvent('hashchange'))
}
