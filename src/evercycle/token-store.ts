import { readFile } from 'node:fs/promises'
import { Mutex } from 'async-mutex'
import { writeFileAtomic } from '../util/atomic-write.js'
import { formatAuthProperties, parseAuthProperties } from './auth-properties.js'
import type { TokenSet } from './tokens.js'

export const SERVICE_IDENTITY = 'service'
const SESSION_PREFIX = 'session:'

/** A gateway session: a browser user's own Evercycle sign-in. `id` is the hash of the cookie's secret. */
export interface SessionRecord {
  id: string
  username: string
  createdAt: number
  expiresAt: number
}

export function sessionIdentity(id: string): string {
  return `${SESSION_PREFIX}${id}`
}

/** What may appear in a log line for an identity: its kind, never a session's id. */
export function identityKind(identity: string): 'service' | 'session' {
  return identity.startsWith(SESSION_PREFIX) ? 'session' : 'service'
}

/**
 * Token sets keyed by identity, and the sessions that own them. Backends: the files below for one box; a
 * database backend shares them across replicas. Deleting a session's identity ends the session.
 */
export interface TokenStore {
  get(identity: string): Promise<TokenSet | undefined>
  /**
   * What `get` would answer, when the store holds it in memory; undefined when it does not (or must ask its
   * backend). Lets the per-request path skip a promise and a microtask or two; callers fall back to `get`.
   */
  cached?(identity: string): TokenSet | undefined
  set(identity: string, tokens: TokenSet): Promise<void>
  delete(identity: string): Promise<void>
  /** The live session with this id; expired sessions read as missing. */
  getSession(id: string): Promise<SessionRecord | undefined>
  createSession(record: SessionRecord, tokens: TokenSet): Promise<void>
  /**
   * Renews an identity's tokens with `renew`, which gets the current set and returns the set to keep (the same
   * object: nothing to write). A shared backend serializes this across processes (a lock per identity, the
   * current set read after acquiring it), so however many replicas find the tokens expiring, one renews.
   */
  renew(identity: string, renew: (current: TokenSet | undefined) => Promise<TokenSet>): Promise<TokenSet>
  close(): Promise<void>
}

interface StoredSession extends SessionRecord {
  tokens: TokenSet
}

/**
 * The service identity lives in the old tool's `auth.properties`; sessions in `auth.properties.sessions`. Both
 * files are 0600 and rewritten atomically, loaded once at boot (so a restart keeps everyone signed in) and
 * served from memory. Writes take the file's mutex, in call order, so each file ends up holding the latest state.
 */
export class FileTokenStore implements TokenStore {
  private service: TokenSet | undefined
  private readonly sessions = new Map<string, StoredSession>()
  private readonly writing = new Map<string, Mutex>()
  private readonly sessionFile: string

  private constructor(private readonly file: string) {
    // beside the token file, named after it (never `*.json`: the config dir's JSON files are operations)
    this.sessionFile = `${file}.sessions`
  }

  static async open(file: string): Promise<FileTokenStore> {
    const store = new FileTokenStore(file)
    const text = await readOptional(file)
    store.service = text === undefined ? undefined : parseAuthProperties(text)
    const sessions = await readOptional(store.sessionFile)
    if (sessions !== undefined) {
      const parsed = JSON.parse(sessions) as { sessions?: Record<string, StoredSession> }
      const now = Date.now()
      for (const [id, s] of Object.entries(parsed.sessions ?? {})) {
        if (s.expiresAt > now) store.sessions.set(id, { ...s, id })
      }
    }
    return store
  }

  async get(identity: string): Promise<TokenSet | undefined> {
    return this.cached(identity)
  }

  /** Everything is in memory here, so this is exactly `get` without the promise. */
  cached(identity: string): TokenSet | undefined {
    if (identity === SERVICE_IDENTITY) return this.service
    return this.live(identity.slice(SESSION_PREFIX.length))?.tokens
  }

  async set(identity: string, tokens: TokenSet): Promise<void> {
    if (identity === SERVICE_IDENTITY) {
      this.service = tokens
      return this.write(this.file, formatAuthProperties(tokens))
    }
    const session = this.live(identity.slice(SESSION_PREFIX.length))
    if (session === undefined) return
    session.tokens = tokens
    return this.writeSessions()
  }

  async delete(identity: string): Promise<void> {
    if (identity === SERVICE_IDENTITY) {
      this.service = undefined
      return this.write(this.file, '# no Evercycle tokens: sign in again\n')
    }
    if (this.sessions.delete(identity.slice(SESSION_PREFIX.length))) await this.writeSessions()
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const s = this.live(id)
    return s === undefined ? undefined : { id: s.id, username: s.username, createdAt: s.createdAt, expiresAt: s.expiresAt }
  }

  async createSession(record: SessionRecord, tokens: TokenSet): Promise<void> {
    this.sessions.set(record.id, { ...record, tokens })
    await this.writeSessions()
  }

  async renew(identity: string, renew: (current: TokenSet | undefined) => Promise<TokenSet>): Promise<TokenSet> {
    const current = await this.get(identity)
    const next = await renew(current)
    if (next !== current) await this.set(identity, next)
    return next
  }

  async close(): Promise<void> {
    // waits for the writes already queued too: a mutex reads as unlocked only once its queue is empty
    await Promise.all([...this.writing.values()].map((m) => m.waitForUnlock()))
  }

  private live(id: string): StoredSession | undefined {
    const s = this.sessions.get(id)
    if (s !== undefined && s.expiresAt <= Date.now()) {
      this.sessions.delete(id)
      return undefined
    }
    return s
  }

  private writeSessions(): Promise<void> {
    const now = Date.now()
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id)
    return this.write(this.sessionFile, `${JSON.stringify({ version: 1, sessions: Object.fromEntries(this.sessions) })}\n`)
  }

  private write(file: string, content: string): Promise<void> {
    let mutex = this.writing.get(file)
    if (mutex === undefined) this.writing.set(file, (mutex = new Mutex()))
    // a failed write releases the mutex (later writes go ahead); its caller still sees the error
    return mutex.runExclusive(() => writeFileAtomic(file, content, 0o600))
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
