import { link, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'

/** Directories this process holds, so a second open in the same process is refused too. */
const held = new Set<string>()

/** A lock file younger than this with no owner in it yet is being written, not abandoned. */
const WRITE_GRACE_MS = 10_000

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, it just isn't ours to signal
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

interface Holder {
  pid: number
  host: string
}

/** The lock's owner (`<pid> <host>`; files from before the host was recorded hold only a pid). */
async function holder(file: string): Promise<Holder | 'unreadable' | 'gone'> {
  try {
    const [pidText, host = hostname()] = (await readFile(file, 'utf8')).trim().split(/\s+/)
    const pid = Number(pidText)
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, host } : 'unreadable'
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    throw err
  }
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs > ms
  } catch {
    return true
  }
}

/** Why the lock can't be taken, or undefined when its owner is gone and it may be taken over. */
async function inUse(file: string): Promise<string | undefined> {
  const h = await holder(file)
  if (h === 'gone') return undefined
  if (h === 'unreadable') return (await olderThan(file, WRITE_GRACE_MS)) ? undefined : 'in use (its lock is being written)'
  // a pid means nothing on another host (two containers on one volume are often both pid 1)
  if (h.host !== hostname()) return `in use by process ${h.pid} on ${h.host} (delete ${file} if nothing uses the directory)`
  const taken = h.pid === process.pid ? held.has(file) : alive(h.pid)
  return taken ? `in use by process ${h.pid}` : undefined
}

/**
 * An exclusive claim on a database directory: PGlite has no postmaster to refuse a second process, and two
 * processes writing one cluster corrupt it (say, two replicas sharing a volume without DATABASE_URL). The
 * lock file holds the owner's pid and host, and appears complete (written aside, then hard-linked into place,
 * which fails if it exists). One left by a process of this host that has died is taken over.
 */
export async function lockDirectory(file: string): Promise<() => Promise<void>> {
  const draft = `${file}.${process.pid}.${Date.now()}`
  await writeFile(draft, `${process.pid} ${hostname()}\n`, { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(draft, file)
        held.add(file)
        let released = false
        // once only: a late second release must not delete a lock a new owner has taken since
        return async () => {
          if (released) return
          released = true
          held.delete(file)
          await rm(file, { force: true })
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        const reason = await inUse(file)
        if (reason !== undefined) {
          throw new Error(`The database directory is ${reason} (${file}); use DATABASE_URL to share one database between processes`)
        }
        await rm(file, { force: true })
      }
    }
    throw new Error(`Could not lock the database directory (${file})`)
  } finally {
    await rm(draft, { force: true })
  }
}
