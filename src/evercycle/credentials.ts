import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Credentials } from './token-manager.js'

/**
 * Service credentials: EVERCYCLE_USERNAME/PASSWORD, else `<configDir>/auth-signin.json` in the old tool's
 * shape `{"body":{"username","password"}}`. Read on demand, never cached in logs or errors.
 */
export function credentialsSource(
  username: string | undefined,
  password: string | undefined,
  configDir: string
): () => Promise<Credentials | undefined> {
  if (username !== undefined && password !== undefined) {
    const credentials = { username, password }
    return async () => credentials
  }
  const file = path.join(configDir, 'auth-signin.json')
  return async () => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      return undefined
    }
    try {
      const body = (JSON.parse(text) as { body?: { username?: unknown; password?: unknown } }).body
      if (typeof body?.username === 'string' && typeof body.password === 'string' && body.username && body.password) {
        return { username: body.username, password: body.password }
      }
    } catch {
      // unreadable file: same as no credentials
    }
    return undefined
  }
}
