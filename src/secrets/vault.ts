import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { SealedValue } from '../store/secrets-repository.js'
import { keyFingerprint, MASTER_KEY_BYTES } from './master-key.js'

const NONCE_BYTES = 12
const TAG_BYTES = 16

/**
 * Binds a ciphertext to its row: a value copied to another account or another key fails to open instead of
 * leaking there. Account ids and key names contain no NUL, so the join is unambiguous.
 */
function associatedData(accountId: string, key: string): Buffer {
  return Buffer.from(`flowrunner-secret\0v1\0${accountId}\0${key}`, 'utf8')
}

export class SecretDecryptionError extends Error {
  override name = 'SecretDecryptionError'
}

/** AES-256-GCM with a fresh random nonce per value. */
export class SecretVault {
  readonly keyId: string

  constructor(private readonly key: Buffer) {
    if (key.length !== MASTER_KEY_BYTES) throw new Error('The secrets master key must be 32 bytes')
    this.keyId = keyFingerprint(key)
  }

  seal(accountId: string, key: string, value: string): SealedValue {
    const nonce = randomBytes(NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(associatedData(accountId, key))
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return { keyId: this.keyId, nonce, ciphertext }
  }

  /** Throws SecretDecryptionError (naming the key, never the value) when the value can't be opened. */
  open(accountId: string, key: string, sealed: SealedValue): string {
    if (sealed.keyId !== this.keyId) {
      throw new SecretDecryptionError(`Secret ${key} was sealed with another master key (${sealed.keyId})`)
    }
    const data = Buffer.from(sealed.ciphertext)
    if (data.length < TAG_BYTES) throw new SecretDecryptionError(`Secret ${key} is corrupt`)
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.nonce), { authTagLength: TAG_BYTES })
      decipher.setAAD(associatedData(accountId, key))
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES))
      return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8')
    } catch {
      throw new SecretDecryptionError(`Secret ${key} failed authentication: corrupt, or moved from another account or key`)
    }
  }
}
