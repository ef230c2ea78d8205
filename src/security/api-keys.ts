import { createHash, timingSafeEqual } from 'node:crypto'
import { bearerToken } from '../http/bearer-token.js'

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

/**
 * The configured API keys. A presented key is compared against every key in constant time (fixed-length
 * digests, no early exit), so neither a key's content nor which key matched shows in the timing.
 */
export class ApiKeySet {
  private readonly digests: Buffer[]

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest)
  }

  get size(): number {
    return this.digests.length
  }

  matches(presented: string): boolean {
    const candidate = digest(presented)
    let found = false
    for (const d of this.digests) found = timingSafeEqual(d, candidate) || found
    return found
  }
}

/** `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedApiKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['x-api-key']
  if (typeof header === 'string' && header !== '') return header
  return bearerToken(headers.authorization)
}
