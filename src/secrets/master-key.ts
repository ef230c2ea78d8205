import { createHash, randomBytes } from 'node:crypto'

export const MASTER_KEY_BYTES = 32

/** FLOWRUNNER_SECRETS_KEY: 32 bytes as 64 hex digits or as base64 (standard or url-safe). */
export function parseMasterKey(text: string): Buffer {
  const value = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex')
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (key.length === MASTER_KEY_BYTES) return key
  }
  throw new Error('FLOWRUNNER_SECRETS_KEY must be 32 bytes, written as 64 hex digits or as base64')
}

export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('hex')
}

/** Names the key a value was sealed with, without revealing it; lets a wrong key fail with a clear message. */
export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update('flowrunner-secrets-key-id').update(key).digest('hex').slice(0, 16)
}
