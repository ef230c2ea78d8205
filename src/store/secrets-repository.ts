import type { Queryable } from './driver.js'

export interface SecretInfo {
  key: string
  createdAt: Date
  updatedAt: Date
}

/** A value as stored: AES-256-GCM output, never the plaintext. */
export interface SealedValue {
  /** Which master key sealed it (a fingerprint, not the key). */
  keyId: string
  nonce: Uint8Array
  /** Ciphertext followed by the 16-byte GCM tag. */
  ciphertext: Uint8Array
}

interface SecretRow {
  key: string
  created_at: Date
  updated_at: Date
}

/**
 * An account's sealed secrets as one JSON value (bytea as base64), for a query that reads them alongside
 * something else; `accountExpr` is the SQL naming the account. Decode with `sealedFromJson`.
 */
export function sealedSecretsJson(accountExpr: string): string {
  return `(SELECT COALESCE(json_agg(json_build_object('key', s.key, 'key_id', s.key_id, 'nonce', encode(s.nonce, 'base64'),
            'ciphertext', encode(s.ciphertext, 'base64'))), '[]'::json) FROM secrets s WHERE s.account_id = ${accountExpr})`
}

interface SealedJson {
  key: string
  key_id: string
  nonce: string
  ciphertext: string
}

export function sealedFromJson(value: unknown): Map<string, SealedValue> {
  const rows = (Array.isArray(value) ? value : []) as SealedJson[]
  return new Map(rows.map((r) => [r.key, { keyId: r.key_id, nonce: Buffer.from(r.nonce, 'base64'), ciphertext: Buffer.from(r.ciphertext, 'base64') }]))
}

/** The primary key (account_id, key), for telling a duplicate key from other conflicts. */
export const SECRET_KEY_CONSTRAINT = 'secrets_pkey'

const toInfo = (r: SecretRow): SecretInfo => ({ key: r.key, createdAt: r.created_at, updatedAt: r.updated_at })

export class SecretsRepository {
  constructor(private readonly db: Queryable) {}

  async insert(accountId: string, key: string, sealed: SealedValue): Promise<SecretInfo> {
    const { rows } = await this.db.query<SecretRow>(
      `INSERT INTO secrets (account_id, key, key_id, nonce, ciphertext) VALUES ($1, $2, $3, $4, $5)
       RETURNING key, created_at, updated_at`,
      [accountId, key, sealed.keyId, sealed.nonce, sealed.ciphertext]
    )
    return toInfo(rows[0] as SecretRow)
  }

  /** Replaces a stored value (sealed anew), or undefined when the account has no such key. */
  async update(accountId: string, key: string, sealed: SealedValue): Promise<SecretInfo | undefined> {
    const { rows } = await this.db.query<SecretRow>(
      `UPDATE secrets SET key_id = $3, nonce = $4, ciphertext = $5, updated_at = now() WHERE account_id = $1 AND key = $2
       RETURNING key, created_at, updated_at`,
      [accountId, key, sealed.keyId, sealed.nonce, sealed.ciphertext]
    )
    const row = rows[0]
    return row === undefined ? undefined : toInfo(row)
  }

  async list(accountId: string): Promise<SecretInfo[]> {
    const { rows } = await this.db.query<SecretRow>(
      'SELECT key, created_at, updated_at FROM secrets WHERE account_id = $1 ORDER BY key',
      [accountId]
    )
    return rows.map(toInfo)
  }

  /** Every sealed value of one account (the engine reads them with the execution, through `sealedSecretsJson`). */
  async sealedValues(accountId: string): Promise<Map<string, SealedValue>> {
    const { rows } = await this.db.query<{ sealed: unknown }>(`SELECT ${sealedSecretsJson('$1')} AS sealed`, [accountId])
    return sealedFromJson(rows[0]?.sealed)
  }

  async delete(accountId: string, key: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM secrets WHERE account_id = $1 AND key = $2', [accountId, key])
    return rowCount > 0
  }
}
