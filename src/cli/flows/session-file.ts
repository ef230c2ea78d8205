import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../../util/atomic-write.js'
import { ensureStateDir, stateDir } from '../state-dir.js'

export const SESSION_FILE_NAME = 'flowrunner-sessions.json'

/** One login: the bearer token, when it runs out, and when it was obtained (to refresh past half its life). */
export interface FlowSession {
  token: string
  /** Epoch ms. */
  expiresAt: number
  obtainedAt: number
  accountId: string
  email: string
}

function isSession(value: unknown): value is FlowSession {
  const v = value as Partial<FlowSession> | null
  return (
    typeof v === 'object' && v !== null &&
    typeof v.token === 'string' && typeof v.expiresAt === 'number' && typeof v.obtainedAt === 'number' &&
    typeof v.accountId === 'string' && typeof v.email === 'string'
  )
}

/**
 * FlowRunner logins, one per server URL, in the per-user state directory (0700): the tokens are bearer
 * credentials, so the file is 0600 and rewritten atomically, and an expired login is dropped on the next write.
 */
export class FlowSessionFile {
  constructor(
    readonly file: string,
    private readonly env: NodeJS.ProcessEnv = process.env
  ) {}

  static inStateDir(env: NodeJS.ProcessEnv = process.env): FlowSessionFile {
    return new FlowSessionFile(path.join(stateDir(env), SESSION_FILE_NAME), env)
  }

  async get(server: string): Promise<FlowSession | undefined> {
    return (await this.read())[server]
  }

  async set(server: string, session: FlowSession): Promise<void> {
    const all = await this.read()
    all[server] = session
    await this.write(all)
  }

  /** True when there was a login to forget. */
  async delete(server: string): Promise<boolean> {
    const all = await this.read()
    if (!(server in all)) return false
    delete all[server]
    await this.write(all)
    return true
  }

  private async read(): Promise<Record<string, FlowSession>> {
    const out = Object.create(null) as Record<string, FlowSession>
    let parsed: { sessions?: Record<string, unknown> }
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8')) as { sessions?: Record<string, unknown> }
    } catch {
      return out
    }
    for (const [server, s] of Object.entries(parsed.sessions ?? {})) if (isSession(s)) out[server] = s
    return out
  }

  private async write(all: Record<string, FlowSession>): Promise<void> {
    const now = Date.now()
    const live = Object.fromEntries(Object.entries(all).filter(([, s]) => s.expiresAt > now))
    if (path.dirname(this.file) === stateDir(this.env)) await ensureStateDir(this.env)
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, sessions: live }, null, 2)}\n`, 0o600)
  }
}
