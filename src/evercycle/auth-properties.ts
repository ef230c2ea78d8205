import type { TokenSet } from './tokens.js'

/**
 * The old tool's `auth.properties`: `key=value` lines. We write the three tokens under the names the old
 * tool used plus the expiry, and read the snake_case spellings too so files from either tool load.
 */
const KEYS: Record<string, keyof TokenSet> = {
  accesstoken: 'accessToken',
  access_token: 'accessToken',
  idtoken: 'idToken',
  id_token: 'idToken',
  refreshtoken: 'refreshToken',
  refresh_token: 'refreshToken'
}

export function parseAuthProperties(text: string): TokenSet | undefined {
  const values: Partial<Record<keyof TokenSet, string>> = {}
  let expiresAt: number | undefined
  let obtainedAt: number | undefined
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    const key = line.slice(0, eq).trim().toLowerCase()
    const value = line.slice(eq + 1).trim()
    const field = KEYS[key]
    if (field !== undefined) values[field] = value
    else if (key === 'expiresat' || key === 'token_expiry') expiresAt = parseInstant(value)
    else if (key === 'obtainedat') obtainedAt = parseInstant(value)
  }
  if (!values.accessToken || !values.idToken || !values.refreshToken) return undefined
  // A file without an expiry (the old tool wrote none) is treated as expired: the next call refreshes.
  const expiry = expiresAt ?? 0
  return {
    accessToken: values.accessToken,
    idToken: values.idToken,
    refreshToken: values.refreshToken,
    expiresAt: expiry,
    obtainedAt: obtainedAt ?? Math.min(expiry, Date.now())
  }
}

function parseInstant(value: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value)
    // epoch seconds (old tool) or epoch milliseconds
    return n < 1e12 ? n * 1000 : n
  }
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

export function formatAuthProperties(tokens: TokenSet): string {
  return [
    '# Evercycle tokens. Private: keep this file mode 0600 and out of version control.',
    `AccessToken=${tokens.accessToken}`,
    `IdToken=${tokens.idToken}`,
    `RefreshToken=${tokens.refreshToken}`,
    `ExpiresAt=${new Date(tokens.expiresAt).toISOString()}`,
    `ObtainedAt=${new Date(tokens.obtainedAt).toISOString()}`,
    ''
  ].join('\n')
}
