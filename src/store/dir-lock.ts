import { open, readFile, rm } from 'node:fs/promises'

/** Directories this process holds, so a second open in the same process is refused too. */
const held = new Set<string>()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, it just isn't ours to signal
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function holder(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * An exclusive claim on a database directory: PGlite has no postmaster to refuse a second process, and two
 * processes writing one cluster corrupt it (say, two replicas sharing a volume without DATABASE_URL). The
 * lock file holds the owner's pid; one left by a process that has died is taken over. (Pids are only
 * meaningful within one host and pid namespace; across containers, share a database with DATABASE_URL.)
 */
export async function lockDirectory(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
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
      const pid = await holder(file)
      const inUse = pid === process.pid ? held.has(file) : pid !== undefined && alive(pid)
      if (inUse) {
        throw new Error(`The database directory is in use by process ${pid} (${file}); use DATABASE_URL to share one database between processes`)
      }
      await rm(file, { force: true })
    }
  }
  throw new Error(`Could not lock the database directory (${file})`)
}
