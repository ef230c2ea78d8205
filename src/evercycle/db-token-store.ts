import type { SecretVault } from '../secrets/vault.js'
import type { Driver, Queryable } from '../store/driver.js'
import { SERVICE_IDENTITY, sessionIdentity, type SessionRecord, type TokenStore } from './token-store.js'
import type { TokenSet } from './tokens.js'

/** Sealed with the master key; the identity is the associated data, so a row can't be replayed as another. */
const VAULT_ACCOUNT = 'gateway-tokens'
const SESSION_PREFIX = 'session:'

interface TokenRow {
  key_id: string
  nonce: Buffer | Uint8Array
  ciphertext: Buffer | Uint8Array
}

/**
 * Token sets and sessions in PostgreSQL, shared by every replica. Renewal takes a transaction-scoped advisory
 * lock per identity and re-reads the row after acquiring it, so replicas queue behind the one that refreshes
 * and then use its tokens. The service identity's set is cached in memory (a replica that still holds an old
 * set finds out from Evercycle's 401 and re-reads); sessions are read on every request so a logout on one
 * replica ends the session on all of them at once.
 */
export class DbTokenStore implements TokenStore {
  private service: TokenSet | undefined

  constructor(
    private readonly db: Driver,
    private readonly vault: SecretVault
  ) {}

  async get(identity: string): Promise<TokenSet | undefined> {
    if (identity === SERVICE_IDENTITY) {
      this.service ??= await this.read(this.db, identity)
      return this.service
    }
    if ((await this.getSession(identity.slice(SESSION_PREFIX.length))) === undefined) return undefined
    return this.read(this.db, identity)
  }

  /** Only the service identity's set is held in memory; sessions are always read from the database. */
  cached(identity: string): TokenSet | undefined {
    return identity === SERVICE_IDENTITY ? this.service : undefined
  }

  async set(identity: string, tokens: TokenSet): Promise<void> {
    await this.write(this.db, identity, tokens)
    if (identity === SERVICE_IDENTITY) this.service = tokens
  }

  async delete(identity: string): Promise<void> {
    if (identity === SERVICE_IDENTITY) this.service = undefined
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM gateway_tokens WHERE identity = $1', [identity])
      if (identity.startsWith(SESSION_PREFIX)) await tx.query('DELETE FROM gateway_sessions WHERE id = $1', [identity.slice(SESSION_PREFIX.length)])
    })
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.query<{ id: string; username: string; created_at: Date; expires_at: Date }>(
      'SELECT id, username, created_at, expires_at FROM gateway_sessions WHERE id = $1 AND expires_at > now()',
      [id]
    )
    const r = rows[0]
    return r === undefined ? undefined : { id: r.id, username: r.username, createdAt: new Date(r.created_at).getTime(), expiresAt: new Date(r.expires_at).getTime() }
  }

  async createSession(record: SessionRecord, tokens: TokenSet): Promise<void> {
    await this.db.transaction(async (tx) => {
      // expired sessions go as new ones arrive, so the table stays the size of the live ones
      await tx.query('DELETE FROM gateway_sessions WHERE expires_at < now()')
      await tx.query('DELETE FROM gateway_tokens WHERE identity LIKE $1 AND NOT EXISTS (SELECT 1 FROM gateway_sessions s WHERE $2 || s.id = identity)', [
        `${SESSION_PREFIX}%`,
        SESSION_PREFIX
      ])
      await tx.query('INSERT INTO gateway_sessions (id, username, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
        record.id,
        record.username,
        new Date(record.createdAt),
        new Date(record.expiresAt)
      ])
      await this.write(tx, sessionIdentity(record.id), tokens)
    })
  }

  async renew(identity: string, renew: (current: TokenSet | undefined) => Promise<TokenSet>): Promise<TokenSet> {
    const next = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`gateway-token:${identity}`])
      const current = await this.read(tx, identity)
      const renewed = await renew(current)
      if (renewed !== current) await this.write(tx, identity, renewed)
      return renewed
    })
    if (identity === SERVICE_IDENTITY) this.service = next
    return next
  }

  async close(): Promise<void> {
    // the database is closed by its owner
  }

  private async read(db: Queryable, identity: string): Promise<TokenSet | undefined> {
    const { rows } = await db.query<TokenRow>('SELECT key_id, nonce, ciphertext FROM gateway_tokens WHERE identity = $1', [identity])
    const row = rows[0]
    if (row === undefined) return undefined
    const text = this.vault.open(VAULT_ACCOUNT, identity, { keyId: row.key_id, nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.ciphertext) })
    return JSON.parse(text) as TokenSet
  }

  private async write(db: Queryable, identity: string, tokens: TokenSet): Promise<void> {
    const sealed = this.vault.seal(VAULT_ACCOUNT, identity, JSON.stringify(tokens))
    await db.query(
      `INSERT INTO gateway_tokens (identity, key_id, nonce, ciphertext) VALUES ($1, $2, $3, $4)
       ON CONFLICT (identity) DO UPDATE SET key_id = $2, nonce = $3, ciphertext = $4, updated_at = now()`,
      [identity, sealed.keyId, sealed.nonce, sealed.ciphertext]
    )
  }
}
