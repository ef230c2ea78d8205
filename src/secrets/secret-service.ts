import type { Principal } from '../accounts/account-service.js'
import { domainError } from '../errors.js'
import { SECRET_VALUE_MIN_LENGTH } from '../flows/runtime/secret-masker.js'
import { AccountsRepository } from '../store/accounts-repository.js'
import { isUniqueViolation, type Driver } from '../store/driver.js'
import { SECRET_KEY_CONSTRAINT, SecretsRepository, type SealedValue, type SecretInfo } from '../store/secrets-repository.js'
import type { SecretVault } from './vault.js'

/** What the routes shape replies from. */
export type { SecretInfo } from '../store/secrets-repository.js'

/**
 * Key names are what flows write after `secrets.` in expressions, so they are identifiers JSONata reads
 * without quoting.
 */
export const SECRET_KEY_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$'
export const SECRET_VALUE_MAX_LENGTH = 65536
/** The masker's own minimum: a shorter value could not be kept out of logs and results, so it is never stored. */
export { SECRET_VALUE_MIN_LENGTH }

/**
 * An account's secrets: the owner or an admin may list, add and delete them; values go in and never come
 * back out through here. The engine opens them with `resolve`.
 */
export class SecretService {
  constructor(
    private readonly db: Driver,
    private readonly vault: SecretVault
  ) {}

  private async authorize(actor: Principal, accountId: string): Promise<void> {
    if (actor.role !== 'admin' && actor.id !== accountId) {
      throw domainError('forbidden', "You can only manage your own account's secrets")
    }
    if (actor.id !== accountId && (await new AccountsRepository(this.db).findById(accountId)) === undefined) {
      throw domainError('not_found', 'Account not found')
    }
  }

  async list(actor: Principal, accountId: string): Promise<SecretInfo[]> {
    await this.authorize(actor, accountId)
    return new SecretsRepository(this.db).list(accountId)
  }

  private static checkValue(value: string): void {
    if (value.length < SECRET_VALUE_MIN_LENGTH) {
      const reason = `must be at least ${SECRET_VALUE_MIN_LENGTH} characters`
      throw domainError('validation_error', `A secret value ${reason}`, { statusCode: 422, details: { field: 'value', reason } })
    }
  }

  async create(actor: Principal, accountId: string, key: string, value: string): Promise<SecretInfo> {
    await this.authorize(actor, accountId)
    if (!new RegExp(SECRET_KEY_PATTERN).test(key)) throw domainError('validation_error', 'Invalid secret key', { statusCode: 422 })
    SecretService.checkValue(value)
    try {
      return await new SecretsRepository(this.db).insert(accountId, key, this.vault.seal(accountId, key, value))
    } catch (err) {
      if (isUniqueViolation(err, SECRET_KEY_CONSTRAINT)) {
        throw domainError('conflict', `Secret ${key} already exists`, { details: { field: 'key', reason: 'already exists' } })
      }
      throw err
    }
  }

  /** A new value for an existing key, sealed with a fresh nonce as on create; 404 when the key is not there. */
  async update(actor: Principal, accountId: string, key: string, value: string): Promise<SecretInfo> {
    await this.authorize(actor, accountId)
    SecretService.checkValue(value)
    const updated = await new SecretsRepository(this.db).update(accountId, key, this.vault.seal(accountId, key, value))
    if (updated === undefined) throw domainError('not_found', 'Secret not found')
    return updated
  }

  async delete(actor: Principal, accountId: string, key: string): Promise<void> {
    await this.authorize(actor, accountId)
    if (!(await new SecretsRepository(this.db).delete(accountId, key))) throw domainError('not_found', 'Secret not found')
  }

  /**
   * Every secret of an account in plain text, for the engine to bind as `secrets` when a run starts. The
   * caller must keep these out of logs, results and errors.
   */
  async resolve(accountId: string): Promise<Record<string, string>> {
    return this.open(accountId, await new SecretsRepository(this.db).sealedValues(accountId))
  }

  /** One sealed value in plain text (a webhook's signing key, read with its trigger). */
  openOne(accountId: string, key: string, sealed: SealedValue): string {
    return this.vault.open(accountId, key, sealed)
  }

  /** `resolve` for sealed values the caller has already read (with the execution they belong to). */
  open(accountId: string, sealed: ReadonlyMap<string, SealedValue>): Record<string, string> {
    const values: Record<string, string> = Object.create(null) as Record<string, string>
    for (const [key, value] of sealed) values[key] = this.vault.open(accountId, key, value)
    return values
  }
}
