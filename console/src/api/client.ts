import { ApiError, errorOf } from './errors.js'

/** Where the session's token comes from and what to do when the server no longer accepts it. */
export interface TokenSource {
  token(): string | undefined
  expired(): void
}

let source: TokenSource = { token: () => undefined, expired: () => undefined }

/** The session module installs itself here; the client stays free of login state. */
export function setTokenSource(next: TokenSource): void {
  source = next
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | boolean | undefined>
  signal?: AbortSignal
  /** Send without the session's token (login). */
  anonymous?: boolean
}

/** A path with its query; undefined and empty values are left out. Never carries a token. */
export function urlOf(path: string, query: RequestOptions['query'] = {}): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v))
  const q = params.toString()
  return q === '' ? path : `${path}?${q}`
}

/**
 * One call to the server's public API, on this origin, with the token in the Authorization header (never in
 * the URL). A 401 on a signed-in call ends the session; any other non-2xx is thrown as an `ApiError`.
 */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const token = options.anonymous === true ? undefined : source.token()
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(urlOf(path, options.query), {
    method,
    headers,
    credentials: 'omit',
    cache: 'no-store',
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  if (res.status === 401 && token !== undefined) source.expired()
  if (!res.ok) throw await errorOf(res)
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text === '' ? undefined : JSON.parse(text)) as T
}

export { ApiError }
