import type { Queryable } from './driver.js'

/** The JWT denylist: a token id stays here until the token would have expired anyway. */
export class RevokedTokensRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Returns false when the token was already revoked, so that of two concurrent refreshes (or logouts) of
   * one token exactly one wins.
   */
  async revoke(jti: string, expiresAt: Date): Promise<boolean> {
    const { rows } = await this.db.query<{ jti: string }>(
      'INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING RETURNING jti',
      [jti, expiresAt]
    )
    return rows.length === 1
  }

  /** Expired tokens fail verification on their own, so their entries are dead weight. */
  async purgeExpired(now = new Date()): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM revoked_tokens WHERE expires_at < $1', [now])
    return rowCount
  }
}
