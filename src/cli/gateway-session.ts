import { readFile } from 'node:fs/promises'
import { SESSION_COOKIE } from '../security/gateway-sessions.js'
import { writeFileAtomic } from '../util/atomic-write.js'

interface Saved {
  cookie: string
  expiresAt: number
}

/**
 * Gateway sessions the CLI started with `evercycle auth --gateway` (GATEWAY_AUTH=session): the cookie is a
 * bearer credential, so it is kept like auth.properties (0600, atomic rewrite) in the per-user state directory
 * (0700), never in a working directory, per gateway URL, and sent only to the gateway that set it. The file name has no `.json` so a config dir scan never mistakes it for an
 * operation.
 */
export class GatewaySessionFile {
  constructor(
    readonly file: string,
    /** Makes the file's directory (the state directory, 0700) before the first write. */
    private readonly prepareDir: () => Promise<unknown> = async () => undefined
  ) {}

  async get(gateway: string): Promise<string | undefined> {
    const saved = (await this.read())[gateway]
    return saved !== undefined && saved.expiresAt > Date.now() ? saved.cookie : undefined
  }

  async set(gateway: string, cookie: string, expiresAt: number): Promise<void> {
    const all = await this.read()
    all[gateway] = { cookie, expiresAt }
    await this.write(all)
  }

  async delete(gateway: string): Promise<void> {
    const all = await this.read()
    if (!(gateway in all)) return
    delete all[gateway]
    await this.write(all)
  }

  private async read(): Promise<Record<string, Saved>> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as { sessions?: Record<string, Saved> }
      return Object.assign(Object.create(null) as Record<string, Saved>, parsed.sessions)
    } catch {
      return Object.create(null) as Record<string, Saved>
    }
  }

  private async write(all: Record<string, Saved>): Promise<void> {
    const now = Date.now()
    const live = Object.fromEntries(Object.entries(all).filter(([, s]) => s.expiresAt > now))
    await this.prepareDir()
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, sessions: live })}\n`, 0o600)
  }
}

export type CookieChange = { kind: 'set'; cookie: string; expiresAt: number } | { kind: 'cleared' } | undefined

/** What a reply's Set-Cookie headers do to the session cookie: set it (with its expiry), clear it, or nothing. */
export function sessionCookieChange(header: string | string[] | undefined, now = Date.now()): CookieChange {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header]
  for (const value of values) {
    const [pair, ...attributes] = value.split(';').map((s) => s.trim())
    if (pair === undefined || !pair.startsWith(`${SESSION_COOKIE}=`)) continue
    const cookieValue = pair.slice(SESSION_COOKIE.length + 1)
    let expiresAt = now + 8 * 3600_000
    for (const attribute of attributes) {
      const [name, ...rest] = attribute.split('=')
      const v = rest.join('=')
      if (name?.toLowerCase() === 'max-age' && /^-?\d+$/.test(v)) expiresAt = now + Number(v) * 1000
      else if (name?.toLowerCase() === 'expires' && !Number.isNaN(Date.parse(v))) expiresAt = Math.min(expiresAt, Date.parse(v))
    }
    if (cookieValue === '' || expiresAt <= now) return { kind: 'cleared' }
    return { kind: 'set', cookie: pair, expiresAt }
  }
  return undefined
}
