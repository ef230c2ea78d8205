import { createHash, randomBytes } from 'node:crypto'
import type { Credentials, TokenManager } from '../evercycle/token-manager.js'
import { sessionIdentity, type SessionRecord, type TokenStore } from '../evercycle/token-store.js'
import type { TokenSet } from '../evercycle/tokens.js'

/** The gateway's session cookie (signed; its value is the session's secret). The CLI keeps it for gateway mode. */
export const SESSION_COOKIE = 'evercycle_session'

/** Only a hash of the cookie's secret is stored, so the session file or table holds nothing replayable. */
export function sessionKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url')
}

export interface StartedSession {
  /** The cookie value (before signing): 256 random bits. */
  secret: string
  record: SessionRecord
  tokens: TokenSet
}

/** Gateway sessions: each holds one user's own Evercycle tokens, for at most `ttlMs`. */
export class GatewaySessions {
  constructor(
    private readonly store: TokenStore,
    private readonly tokens: TokenManager,
    private readonly ttlMs: number
  ) {}

  async start(credentials: Credentials, requestId?: string): Promise<StartedSession> {
    const tokens = await this.tokens.authenticate(credentials, requestId)
    const secret = randomBytes(32).toString('base64url')
    const now = Date.now()
    const record: SessionRecord = { id: sessionKey(secret), username: credentials.username, createdAt: now, expiresAt: now + this.ttlMs }
    await this.store.createSession(record, tokens)
    return { secret, record, tokens }
  }

  async resolve(secret: string): Promise<SessionRecord | undefined> {
    return this.store.getSession(sessionKey(secret))
  }

  async end(secret: string): Promise<void> {
    await this.store.delete(sessionIdentity(sessionKey(secret)))
  }
}
