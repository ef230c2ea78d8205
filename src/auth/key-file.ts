import { randomBytes } from 'node:crypto'
import { link, readFile, rm, stat } from 'node:fs/promises'
import { writeFileAtomic } from '../util/atomic-write.js'

export interface KeyFileResult {
  value: string
  created: boolean
  /** Other users can read the file: worth a warning, since it holds a key. */
  exposed: boolean
}

async function readKey(file: string): Promise<KeyFileResult | undefined> {
  try {
    const value = (await readFile(file, 'utf8')).trim()
    const mode = (await stat(file)).mode
    return { value, created: false, exposed: (mode & 0o077) !== 0 }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Reads a generated key kept in DATA_DIR, creating it (0600) on first use. The new file is written in full
 * under a private name and then hard-linked into place, which fails if another process got there first: two
 * processes booting on one directory end up with the same key, never with one each.
 */
export async function readOrCreateKeyFile(file: string, generate: () => string): Promise<KeyFileResult> {
  const existing = await readKey(file)
  if (existing !== undefined) return existing
  const staging = `${file}.${randomBytes(6).toString('hex')}.new`
  const value = generate()
  await writeFileAtomic(staging, `${value}\n`, 0o600)
  try {
    await link(staging, file)
    return { value, created: true, exposed: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const winner = await readKey(file)
    if (winner === undefined) throw err
    return winner
  } finally {
    await rm(staging, { force: true })
  }
}
