/** The token set Evercycle hands out, with the moment it stops being usable. */
export interface TokenSet {
  accessToken: string
  idToken: string
  refreshToken: string
  /** Epoch milliseconds at which Evercycle stops accepting the access and id tokens. */
  expiresAt: number
  /** Epoch milliseconds at which the set was obtained; bounds the refresh margin for short-lived tokens. */
  obtainedAt: number
}

/** Evercycle's `AuthenticationResult` (Cognito-style). Refresh answers omit `RefreshToken`. */
export interface AuthenticationResult {
  AccessToken: string
  IdToken: string
  RefreshToken?: string
  ExpiresIn?: number
  TokenType?: string
}

const DEFAULT_LIFETIME_MS = 3600_000

/** The `exp` claim of a JWT in epoch ms, or undefined when the token is not a JWT or carries none. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || parts[1] === undefined) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    if (typeof claims === 'object' && claims !== null && 'exp' in claims && typeof claims.exp === 'number') {
      return claims.exp * 1000
    }
  } catch {
    // not a JWT: fall through to the default lifetime
  }
  return undefined
}

/**
 * Expiry comes from `ExpiresIn`, else the id token's JWT `exp`, else one hour, as the old server assumed.
 * A refresh answer keeps the previous refresh token.
 */
export function tokenSetFrom(result: AuthenticationResult, previousRefreshToken?: string, now = Date.now()): TokenSet {
  const refreshToken = result.RefreshToken ?? previousRefreshToken
  if (!result.AccessToken || !result.IdToken || !refreshToken) {
    throw new TypeError('AuthenticationResult is missing a token')
  }
  const expiresAt =
    typeof result.ExpiresIn === 'number' && result.ExpiresIn > 0
      ? now + result.ExpiresIn * 1000
      : (jwtExpiry(result.IdToken) ?? jwtExpiry(result.AccessToken) ?? now + DEFAULT_LIFETIME_MS)
  return { accessToken: result.AccessToken, idToken: result.IdToken, refreshToken, expiresAt, obtainedAt: now }
}

/**
 * A token is usable while it expires later than now + margin. The margin is the configured skew (60 s by
 * default), but never more than half the token's lifetime: with very short-lived tokens a fixed 60 s margin
 * would make every freshly refreshed token look expired and every call refresh again.
 */
export function isUsable(tokens: TokenSet, skewMs: number, now = Date.now()): boolean {
  return refreshDueAt(tokens, skewMs) > now
}

/** The moment (epoch ms) from which `isUsable` says no, so the next call renews the set first. */
export function refreshDueAt(tokens: TokenSet, skewMs: number): number {
  const lifetime = tokens.expiresAt - tokens.obtainedAt
  return tokens.expiresAt - Math.min(skewMs, Math.max(0, lifetime / 2))
}
