import type { Queryable } from './driver.js'

export type Role = 'admin' | 'user'

export interface Account {
  id: string
  name: string
  email: string
  role: Role
  createdAt: Date
  updatedAt: Date
}

interface AccountRow {
  id: string
  name: string
  email: string
  role: Role
  created_at: Date
  updated_at: Date
}

const COLUMNS = 'id, name, email, role, created_at, updated_at'

function toAccount(row: AccountRow): Account {
  return { id: row.id, name: row.name, email: row.email, role: row.role, createdAt: row.created_at, updatedAt: row.updated_at }
}

export interface NewAccount {
  id: string
  name: string
  email: string
  role: Role
  passwordHash: string
}

export interface AccountPatch {
  name?: string
  email?: string
  role?: Role
  passwordHash?: string
}

/** The unique index on lower(email), for telling a duplicate email from other conflicts. */
export const ACCOUNT_EMAIL_CONSTRAINT = 'accounts_email_key'

export class AccountsRepository {
  constructor(private readonly db: Queryable) {}

  async insert(a: NewAccount): Promise<Account> {
    const { rows } = await this.db.query<AccountRow>(
      `INSERT INTO accounts (id, name, email, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [a.id, a.name, a.email, a.role, a.passwordHash]
    )
    return toAccount(rows[0] as AccountRow)
  }

  async findById(id: string): Promise<Account | undefined> {
    const { rows } = await this.db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE id = $1`, [id])
    return rows[0] === undefined ? undefined : toAccount(rows[0])
  }

  /**
   * The account a bearer token names, unless the token (`jti`) was revoked or was issued before the account's
   * last password change (its `generation` is older): one round trip per request.
   */
  async findForToken(id: string, jti: string, generation: number): Promise<Account | undefined> {
    const { rows } = await this.db.query<AccountRow>(
      `SELECT ${COLUMNS} FROM accounts
        WHERE id = $1 AND token_generation = $3 AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $2)`,
      [id, jti, generation]
    )
    return rows[0] === undefined ? undefined : toAccount(rows[0])
  }

  /** For login only: the one read that returns the password hash (and the generation the new token gets). */
  async findCredentials(email: string): Promise<{ account: Account; passwordHash: string; tokenGeneration: number } | undefined> {
    const { rows } = await this.db.query<AccountRow & { password_hash: string; token_generation: number }>(
      `SELECT ${COLUMNS}, password_hash, token_generation FROM accounts WHERE lower(email) = lower($1)`,
      [email]
    )
    const row = rows[0]
    return row === undefined ? undefined : { account: toAccount(row), passwordHash: row.password_hash, tokenGeneration: row.token_generation }
  }

  async list(filter: { role?: Role | undefined; limit: number; offset: number }): Promise<{ accounts: Account[]; total: number }> {
    const role = filter.role ?? null
    const [page, count] = await Promise.all([
      this.db.query<AccountRow>(
        `SELECT ${COLUMNS} FROM accounts WHERE ($1::text IS NULL OR role = $1) ORDER BY created_at, id LIMIT $2 OFFSET $3`,
        [role, filter.limit, filter.offset]
      ),
      this.db.query<{ total: number }>('SELECT count(*)::int AS total FROM accounts WHERE ($1::text IS NULL OR role = $1)', [role])
    ])
    return { accounts: page.rows.map(toAccount), total: count.rows[0]?.total ?? 0 }
  }

  async update(id: string, patch: AccountPatch): Promise<Account | undefined> {
    const { rows } = await this.db.query<AccountRow>(
      `UPDATE accounts SET
         name = coalesce($2, name),
         email = coalesce($3, email),
         role = coalesce($4, role),
         password_hash = coalesce($5, password_hash),
         -- a new password ends the sessions the old one opened
         token_generation = token_generation + CASE WHEN $5::text IS NULL THEN 0 ELSE 1 END,
         updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, patch.name ?? null, patch.email ?? null, patch.role ?? null, patch.passwordHash ?? null]
    )
    return rows[0] === undefined ? undefined : toAccount(rows[0])
  }

  /** Flows, revisions and secrets go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM accounts WHERE id = $1', [id])
    return rowCount > 0
  }

  async count(role?: Role): Promise<number> {
    const { rows } = await this.db.query<{ total: number }>(
      'SELECT count(*)::int AS total FROM accounts WHERE ($1::text IS NULL OR role = $1)',
      [role ?? null]
    )
    return rows[0]?.total ?? 0
  }
}
