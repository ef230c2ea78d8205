import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../util/atomic-write.js'
import { formatAuthProperties, parseAuthProperties } from './auth-properties.js'
import type { TokenSet } from './tokens.js'

export const SERVICE_IDENTITY = 'service'

/** Token sets keyed by identity. Backends: the file below; a database backend shares state across replicas. */
export interface TokenStore {
  get(identity: string): Promise<TokenSet | undefined>
  set(identity: string, tokens: TokenSet): Promise<void>
  delete(identity: string): Promise<void>
  close(): Promise<void>
}

/**
 * The service identity lives in the old tool's `auth.properties` (0600, atomic rewrite), loaded once at boot so
 * a restart reuses its tokens. Reads are served from memory; writes are serialized so the file always ends
 * up holding the latest set.
 */
export class FileTokenStore implements TokenStore {
  private readonly tokens = new Map<string, TokenSet>()
  private writes: Promise<void> = Promise.resolve()

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<FileTokenStore> {
    const store = new FileTokenStore(file)
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined
      throw err
    })
    const service = text === undefined ? undefined : parseAuthProperties(text)
    if (service !== undefined) store.tokens.set(SERVICE_IDENTITY, service)
    return store
  }

  async get(identity: string): Promise<TokenSet | undefined> {
    return this.tokens.get(identity)
  }

  async set(identity: string, tokens: TokenSet): Promise<void> {
    this.tokens.set(identity, tokens)
    if (identity === SERVICE_IDENTITY) await this.persist(formatAuthProperties(tokens))
  }

  async delete(identity: string): Promise<void> {
    this.tokens.delete(identity)
    if (identity === SERVICE_IDENTITY) await this.persist('# no Evercycle tokens: sign in again\n')
  }

  async close(): Promise<void> {
    await this.writes
  }

  private persist(content: string): Promise<void> {
    const next = this.writes.then(() => writeFileAtomic(this.file, content, 0o600))
    // a failed write must not poison later ones; the caller of this write still sees its error
    this.writes = next.catch(() => undefined)
    return next
  }
}
