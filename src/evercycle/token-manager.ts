import type { Logger } from '../util/logger.js'
import { domainError, isDomainError } from '../errors.js'
import type { EvercycleClient } from './client.js'
import { identityKind, SERVICE_IDENTITY, type TokenStore } from './token-store.js'
import { isUsable, refreshDueAt, tokenSetFrom, type TokenSet } from './tokens.js'

export interface Credentials {
  username: string
  password: string
}

export interface TokenManagerOptions {
  /** Refresh this long before expiry (bounded by half the token lifetime). */
  skewMs: number
  /** First pause after a refused service sign-in; doubles per failure up to 5 minutes. */
  signInBackoffMs: number
  /** Service credentials for re-authentication, read when needed so a config edit is picked up. */
  credentials: () => Promise<Credentials | undefined>
  log: Logger
}

const MAX_BACKOFF_MS = 300_000
/** The fail-fast refusals during the sign-in back-off: they leave the stored tokens as they are. */
const backOffRefusals = new WeakSet<Error>()
/** Failures to reach Evercycle at all: a sign-in after a refresh that failed so would fail the same way. */
const TRANSPORT_FAILURES = new Set(['upstream_unavailable', 'upstream_timeout'])

export interface TokenEvents {
  refreshes: number
  signIns: number
  failures: number
  /** Callers that joined a renewal already in flight instead of starting one (single-flight at work). */
  waiters: number
}

/** What a status page may show of an identity's tokens: times and states, never a token. */
export interface TokenStatus {
  /** A set is held and has not expired (past its refresh time it is still valid; the next call renews it). */
  signedIn: boolean
  /** Epoch ms; undefined without a set. */
  expiresAt: number | undefined
  /** When the held set was obtained, by sign-in or refresh (epoch ms). */
  obtainedAt: number | undefined
  /** From then on the next call renews the set first (`isUsable`); nothing renews it on a timer. */
  refreshDueAt: number | undefined
  /** A renewal is in flight in this process. */
  renewing: boolean
  /** The service identity's sign-in back-off after a refusal: no sign-in is tried before then (epoch ms). */
  signInBlockedUntil: number | undefined
}

/**
 * Hands out usable tokens per identity. However many callers find the tokens expiring at once, one renewal
 * (refresh, else sign-in with the service credentials) reaches Evercycle; the others await the same promise.
 */
export class TokenManager {
  private readonly inflight = new Map<string, Promise<TokenSet>>()
  private signInBlockedUntil = 0
  private signInFailures = 0
  readonly events: TokenEvents = { refreshes: 0, signIns: 0, failures: 0, waiters: 0 }

  constructor(
    private readonly store: TokenStore,
    private readonly client: EvercycleClient,
    private readonly options: TokenManagerOptions
  ) {}

  /**
   * Usable tokens now, renewing first when they are missing or about to expire. `requestId` is the request
   * that needs them: a renewal it starts carries that id upstream.
   */
  async getTokens(identity: string = SERVICE_IDENTITY, requestId?: string): Promise<TokenSet> {
    const pending = this.inflight.get(identity)
    if (pending !== undefined) return this.join(pending)
    const current = await this.store.get(identity)
    if (current !== undefined && isUsable(current, this.options.skewMs)) return current
    return this.renew(identity, current, requestId)
  }

  /**
   * The identity's tokens when the store holds a usable set in memory and no renewal is under way: what
   * `getTokens` would resolve to, without a promise. Undefined means "ask `getTokens`".
   */
  usableNow(identity: string = SERVICE_IDENTITY): TokenSet | undefined {
    if (this.inflight.size !== 0 && this.inflight.has(identity)) return undefined
    const current = this.store.cached?.(identity)
    return current !== undefined && isUsable(current, this.options.skewMs) ? current : undefined
  }

  /** Current tokens if usable, without contacting Evercycle. */
  async peek(identity: string = SERVICE_IDENTITY): Promise<TokenSet | undefined> {
    const current = await this.store.get(identity)
    return current !== undefined && isUsable(current, this.options.skewMs) ? current : undefined
  }

  async status(identity: string = SERVICE_IDENTITY, now = Date.now()): Promise<TokenStatus> {
    const current = await this.store.get(identity)
    const blocked = identity === SERVICE_IDENTITY && this.signInBlockedUntil > now ? this.signInBlockedUntil : undefined
    return {
      signedIn: current !== undefined && current.expiresAt > now,
      expiresAt: current?.expiresAt,
      obtainedAt: current?.obtainedAt,
      refreshDueAt: current === undefined ? undefined : refreshDueAt(current, this.options.skewMs),
      renewing: this.inflight.has(identity),
      signInBlockedUntil: blocked
    }
  }

  /**
   * Renews the identity's tokens. `stale` is the set the caller found expiring or saw refused: when the store
   * already holds a different usable set, another caller renewed meanwhile and that set is returned.
   */
  renew(identity: string, stale: TokenSet | undefined, requestId?: string): Promise<TokenSet> {
    const pending = this.inflight.get(identity)
    if (pending !== undefined) return this.join(pending)
    const renewal = this.doRenew(identity, stale, requestId).finally(() => this.inflight.delete(identity))
    this.inflight.set(identity, renewal)
    return renewal
  }

  private join(pending: Promise<TokenSet>): Promise<TokenSet> {
    this.events.waiters++
    return pending
  }

  /** Signs in with the given credentials without storing anything (a new session stores them itself). */
  async authenticate(credentials: Credentials, requestId?: string): Promise<TokenSet> {
    const result = await this.client.signIn(credentials.username, credentials.password, requestId)
    return tokenSetFrom(result)
  }

  /** Explicit sign-in with given credentials (POST /api/auth); replaces the identity's tokens. */
  async signIn(identity: string, credentials: Credentials, requestId?: string): Promise<TokenSet> {
    const tokens = await this.authenticate(credentials, requestId)
    await this.store.set(identity, tokens)
    this.events.signIns++
    this.options.log.info({ identity: identityKind(identity) }, 'evercycle sign-in succeeded')
    return tokens
  }

  async forget(identity: string): Promise<void> {
    await this.store.delete(identity)
  }

  private async doRenew(identity: string, stale: TokenSet | undefined, requestId: string | undefined): Promise<TokenSet> {
    try {
      return await this.store.renew(identity, (current) => this.renewFrom(identity, current, stale, requestId))
    } catch (err) {
      // a refused renewal leaves no tokens behind: the next caller must not retry with dead ones
      if (isDomainError(err) && err.code === 'unauthorized' && !backOffRefusals.has(err)) await this.store.delete(identity)
      throw err
    }
  }

  /** Runs with the identity's renewal lock held and `current` read after acquiring it. */
  private async renewFrom(
    identity: string,
    current: TokenSet | undefined,
    stale: TokenSet | undefined,
    requestId: string | undefined
  ): Promise<TokenSet> {
    if (current !== undefined && current.accessToken !== stale?.accessToken && isUsable(current, this.options.skewMs)) {
      // someone else (this process or another replica) renewed while we waited
      return current
    }
    if (current !== undefined) {
      try {
        const result = await this.client.refresh(current.refreshToken, requestId)
        const tokens = tokenSetFrom(result, current.refreshToken)
        this.events.refreshes++
        this.options.log.info({ identity: identityKind(identity) }, 'evercycle token refreshed')
        return tokens
      } catch (err) {
        // A refresh that failed falls back to signing in (a refusal, a 5xx, an answer without tokens); only an
        // unreachable or silent Evercycle does not, since the sign-in would meet the same fate. A user's session
        // has no sign-in to fall back to: it ends on a refusal only, not on Evercycle's own trouble.
        if (!isDomainError(err) || TRANSPORT_FAILURES.has(err.code)) throw err
        if (identity !== SERVICE_IDENTITY && err.code !== 'unauthorized') throw err
        this.events.failures++
        this.options.log.warn({ identity: identityKind(identity), reason: err.code }, 'evercycle token refresh failed; signing in again')
      }
    }
    return this.serviceSignIn(identity, requestId)
  }

  private async serviceSignIn(identity: string, requestId: string | undefined): Promise<TokenSet> {
    if (identity !== SERVICE_IDENTITY) {
      // a session renews with its own refresh token only; it never falls back to the service account
      throw domainError('unauthorized', 'Session expired: sign in again', { details: { session_ended: true } })
    }
    const now = Date.now()
    if (now < this.signInBlockedUntil) {
      const retryAfter = Math.ceil((this.signInBlockedUntil - now) / 1000)
      const refusal = domainError('unauthorized', 'Evercycle sign-in recently failed; not retrying yet', {
        headers: { 'retry-after': String(retryAfter) },
        details: { retry_after_seconds: retryAfter }
      })
      backOffRefusals.add(refusal)
      throw refusal
    }
    const credentials = await this.options.credentials()
    if (credentials === undefined) {
      throw domainError('unauthorized', 'Not signed in to Evercycle and no service credentials are configured: POST /api/auth first')
    }
    try {
      const tokens = await this.authenticate(credentials, requestId)
      this.events.signIns++
      this.options.log.info({ identity: identityKind(identity) }, 'evercycle sign-in succeeded')
      this.signInFailures = 0
      return tokens
    } catch (err) {
      if (isDomainError(err) && err.code === 'unauthorized') {
        this.events.failures++
        this.signInFailures++
        const pause = Math.min(this.options.signInBackoffMs * 2 ** (this.signInFailures - 1), MAX_BACKOFF_MS)
        this.signInBlockedUntil = Date.now() + pause
        this.options.log.error({ identity: identityKind(identity), retryInMs: pause }, 'evercycle service sign-in refused; backing off')
        throw domainError('unauthorized', 'Evercycle refused the service credentials', {
          headers: { 'retry-after': String(Math.ceil(pause / 1000)) }
        })
      }
      throw err
    }
  }
}
