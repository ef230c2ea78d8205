import { randomUUID } from 'node:crypto'
import { dummyHash, verifyPassword } from '../accounts/password.js'
import { domainError } from '../errors.js'
import { AccountsRepository, type Account } from '../store/accounts-repository.js'
import type { Driver } from '../store/driver.js'
import { LoginFailuresRepository } from '../store/login-failures-repository.js'
import { RevokedTokensRepository } from '../store/revoked-tokens-repository.js'

/**
 * The claims of a FlowRunner token. `iat` is added by the signer. `gen` is the account's token generation when
 * the token was issued: a password change moves it on, which ends every older token (absent means 0).
 */
export interface TokenClaims {
  sub: string
  jti: string
  exp: number
  gen: number
}

/** Signs and verifies HS256 tokens; `verify` throws on a bad signature, a wrong algorithm or expiry. */
export interface TokenCodec {
  sign(claims: TokenClaims): string
  verify(token: string): unknown
}

export interface IssuedToken {
  token: string
  expiresAt: Date
  accountId: string
}

/** An authenticated request: the account as it is now in the database, and the token it came with. */
export interface Session {
  account: Account
  tokenId: string
  expiresAt: Date
  /** The token's generation (see TokenClaims.gen); a refreshed token keeps it. */
  generation: number
}

export interface SessionOptions {
  ttlSeconds: number
  /** Failed logins allowed per client address and login name in one window. */
  maxFailures: number
  windowMs?: number
}

const WINDOW_MS = 60_000

function isClaims(value: unknown): value is TokenClaims {
  const v = value as Partial<TokenClaims> | null
  return (
    typeof v === 'object' && v !== null &&
    typeof v.sub === 'string' && v.sub.length > 0 &&
    typeof v.jti === 'string' && v.jti.length > 0 &&
    typeof v.exp === 'number' &&
    (v.gen === undefined || (Number.isInteger(v.gen) && v.gen >= 0))
  )
}

function unauthorized(message = 'Invalid or expired token'): Error {
  return domainError('unauthorized', message, { headers: { 'www-authenticate': 'Bearer' } })
}

/**
 * Login, refresh, logout and per-request token checks. Every check reads the account again, so a deleted
 * account's tokens stop working at once and a role change applies to the next request; revocations live in
 * the database, so every replica honours them.
 */
export class JwtSessions {
  private readonly windowMs: number

  constructor(
    private readonly db: Driver,
    private readonly codec: TokenCodec,
    private readonly options: SessionOptions
  ) {
    this.windowMs = options.windowMs ?? WINDOW_MS
  }

  issue(accountId: string, generation: number): IssuedToken {
    const exp = Math.floor(Date.now() / 1000) + this.options.ttlSeconds
    const token = this.codec.sign({ sub: accountId, jti: randomUUID(), exp, gen: generation })
    return { token, expiresAt: new Date(exp * 1000), accountId }
  }

  /**
   * Checks a password for a login name under the failed-login limit (per client address and name): 429 past
   * it, else the account when the password matches, else undefined with the failure counted.
   */
  private async attempt(username: string, password: string, clientIp: string): Promise<{ account: Account; tokenGeneration: number } | undefined> {
    const failures = new LoginFailuresRepository(this.db)
    const key = `${clientIp}|${username.trim().toLowerCase()}`
    const current = await failures.current(key, this.windowMs)
    if (current !== undefined && current.failures >= this.options.maxFailures) {
      const retryAfter = Math.max(1, Math.ceil((current.resetsAt.getTime() - Date.now()) / 1000))
      throw domainError('rate_limited', 'Too many failed logins; try again later', {
        headers: { 'retry-after': String(retryAfter) },
        details: { retry_after: retryAfter }
      })
    }
    const found = await new AccountsRepository(this.db).findCredentials(username.trim())
    // an unknown name costs one hash too, so timing doesn't tell which emails exist
    const matches = await verifyPassword(password, found?.passwordHash ?? (await dummyHash()))
    if (found === undefined || !matches) {
      await failures.record(key, this.windowMs)
      return undefined
    }
    if (current !== undefined) await failures.clear(key)
    return found
  }

  async login(username: string, password: string, clientIp: string): Promise<IssuedToken> {
    const found = await this.attempt(username, password, clientIp)
    if (found === undefined) throw unauthorized('Invalid username or password')
    return this.issue(found.account.id, found.tokenGeneration)
  }

  /**
   * The signed-in account proving it knows its password before changing it or its email, so a stolen token
   * alone can't take the account over: a wrong one is 403 and counts as a failed login for the account's email
   * from this address, under the same limit.
   */
  async confirmPassword(account: Account, password: string, clientIp: string): Promise<void> {
    const found = await this.attempt(account.email, password, clientIp)
    if (found?.account.id !== account.id) throw domainError('forbidden', 'The current password is incorrect', { details: { field: 'current_password', reason: 'does not match' } })
  }

  async authenticate(token: string): Promise<Session> {
    let claims: unknown
    try {
      claims = this.codec.verify(token)
    } catch {
      throw unauthorized()
    }
    if (!isClaims(claims)) throw unauthorized()
    const generation = claims.gen ?? 0
    const account = await new AccountsRepository(this.db).findForToken(claims.sub, claims.jti, generation)
    if (account === undefined) throw unauthorized()
    return { account, tokenId: claims.jti, expiresAt: new Date(claims.exp * 1000), generation }
  }

  /** The old token is revoked first: of two concurrent refreshes of one token, only one gets a new one. */
  async refresh(session: Session): Promise<IssuedToken> {
    if (!(await new RevokedTokensRepository(this.db).revoke(session.tokenId, session.expiresAt))) throw unauthorized()
    return this.issue(session.account.id, session.generation)
  }

  async logout(session: Session): Promise<void> {
    const revoked = new RevokedTokensRepository(this.db)
    if (!(await revoked.revoke(session.tokenId, session.expiresAt))) throw unauthorized()
    // housekeeping rides on logouts: entries past their token's expiry can go
    await revoked.purgeExpired()
    await new LoginFailuresRepository(this.db).purgeOlderThan(this.windowMs)
  }
}
