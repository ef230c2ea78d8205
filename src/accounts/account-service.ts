import { randomUUID } from 'node:crypto'
import { domainError } from '../errors.js'
import { ACCOUNT_EMAIL_CONSTRAINT, AccountsRepository, type Account, type Role } from '../store/accounts-repository.js'
import { isUniqueViolation, type Driver, type Queryable } from '../store/driver.js'
import { hashPassword } from './password.js'

/** What the routes shape replies from. */
export type { Account } from '../store/accounts-repository.js'

/** Who is asking: the authenticated account, as the auth layer resolved it for this request. */
export interface Principal {
  id: string
  role: Role
}

export interface NewAccountInput {
  name: string
  email: string
  password: string
  role?: Role | undefined
}

export interface AccountUpdate {
  name?: string | undefined
  email?: string | undefined
  role?: Role | undefined
  password?: string | undefined
}

/**
 * The current password an account sends to change its own password or email, and how to check it (the
 * sessions' check, under the failed-login limit).
 */
export interface CurrentPassword {
  value: string | undefined
  confirm(password: string): Promise<void>
}

/** Serialises every change that could leave the system without an admin, across replicas. */
const ADMINS_LOCK = 'flowrunner.admins'

export function newAccountId(): string {
  return `account-${randomUUID()}`
}

function duplicateEmail(err: unknown, email: string | undefined): never {
  if (isUniqueViolation(err, ACCOUNT_EMAIL_CONSTRAINT)) {
    throw domainError('conflict', 'An account with this email already exists', { details: { field: 'email', reason: `${email ?? ''} is taken` } })
  }
  throw err
}

/**
 * Account rules: admins manage every account; a user reads and edits only itself, and never its own role;
 * an account changing its own password or email proves it knows the current one; the last admin can be
 * neither deleted nor demoted.
 */
export class AccountService {
  constructor(private readonly db: Driver) {}

  private repo(q: Queryable = this.db): AccountsRepository {
    return new AccountsRepository(q)
  }

  private static requireAdmin(actor: Principal, action: string): void {
    if (actor.role !== 'admin') throw domainError('forbidden', `Only admins can ${action}`)
  }

  /** Users get 403 for any account but their own, whether or not it exists, so ids can't be probed. */
  private static requireSelfOrAdmin(actor: Principal, id: string): void {
    if (actor.role !== 'admin' && actor.id !== id) throw domainError('forbidden', 'You can only access your own account')
  }

  async list(actor: Principal, filter: { role?: Role | undefined; limit: number; offset: number }): Promise<{ accounts: Account[]; total: number }> {
    AccountService.requireAdmin(actor, 'list accounts')
    return this.repo().list(filter)
  }

  async get(actor: Principal, id: string): Promise<Account> {
    AccountService.requireSelfOrAdmin(actor, id)
    const account = await this.repo().findById(id)
    if (account === undefined) throw domainError('not_found', 'Account not found')
    return account
  }

  async create(actor: Principal, input: NewAccountInput): Promise<Account> {
    AccountService.requireAdmin(actor, 'create accounts')
    const passwordHash = await hashPassword(input.password)
    try {
      return await this.repo().insert({
        id: newAccountId(),
        name: input.name,
        email: input.email,
        role: input.role ?? 'user',
        passwordHash
      })
    } catch (err) {
      return duplicateEmail(err, input.email)
    }
  }

  async update(actor: Principal, id: string, update: AccountUpdate, current?: CurrentPassword): Promise<Account> {
    AccountService.requireSelfOrAdmin(actor, id)
    // a stolen token alone must not be enough to lock the owner out; admins resetting another account need not
    if (actor.id === id && (update.password !== undefined || update.email !== undefined)) {
      if (current?.value === undefined) {
        throw domainError('invalid_request', 'current_password is required to change your own password or email', {
          details: { field: 'current_password', reason: 'is required to change your own password or email' }
        })
      }
      await current.confirm(current.value)
    }
    // hashing is slow: do it before taking any lock
    const passwordHash = update.password === undefined ? undefined : await hashPassword(update.password)
    try {
      return await this.db.transaction(async (tx) => {
        const repo = this.repo(tx)
        if (update.role !== undefined) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ADMINS_LOCK])
        const current = await repo.findById(id)
        if (current === undefined) throw domainError('not_found', 'Account not found')
        if (update.role !== undefined && update.role !== current.role) {
          if (actor.role !== 'admin') throw domainError('forbidden', 'You cannot change your own role')
          if (current.role === 'admin' && (await repo.count('admin')) <= 1) {
            throw domainError('conflict', 'The last admin cannot be demoted')
          }
        }
        const updated = await repo.update(id, { name: update.name, email: update.email, role: update.role, passwordHash })
        if (updated === undefined) throw domainError('not_found', 'Account not found')
        return updated
      })
    } catch (err) {
      return duplicateEmail(err, update.email)
    }
  }

  async delete(actor: Principal, id: string): Promise<void> {
    AccountService.requireAdmin(actor, 'delete accounts')
    await this.db.transaction(async (tx) => {
      const repo = this.repo(tx)
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ADMINS_LOCK])
      const current = await repo.findById(id)
      if (current === undefined) throw domainError('not_found', 'Account not found')
      if (current.role === 'admin' && (await repo.count('admin')) <= 1) {
        throw domainError('conflict', 'The last admin cannot be deleted')
      }
      await repo.delete(id)
    })
  }

  /**
   * Creates the first admin when the database has no account at all. Replicas booting together queue on the
   * lock, so exactly one creates it. Returns the account it created, if any.
   */
  async bootstrapAdmin(email: string, password: string): Promise<Account | undefined> {
    const passwordHash = await hashPassword(password)
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ADMINS_LOCK])
      const repo = this.repo(tx)
      if ((await repo.count()) > 0) return undefined
      return repo.insert({ id: newAccountId(), name: 'Administrator', email, role: 'admin', passwordHash })
    })
  }

  async count(): Promise<number> {
    return this.repo().count()
  }
}
