import { accessSync, constants, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'

/** Below this much free space a memory file system is not used for the tests' directories. */
const MIN_FREE_BYTES = 4 * 1024 ** 3

let root: string | undefined

function roomyMemoryFs(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    const fs = statfsSync(dir)
    return fs.bavail * fs.bsize >= MIN_FREE_BYTES
  } catch {
    return false
  }
}

/**
 * Where tests make their temporary directories: `TEST_TMPDIR` when set, else `/dev/shm` when it is a writable
 * memory file system with room to spare (Linux), else the OS's temp directory. Every app a test boots copies an
 * embedded PostgreSQL cluster (some 40 MB in a thousand files) into its directory and opens it: on tmpfs that
 * costs a third of the CPU it does on a disk, and the tests boot hundreds of them.
 */
export function testTmpRoot(): string {
  root ??= process.env.TEST_TMPDIR ?? (process.platform === 'linux' && roomyMemoryFs('/dev/shm') ? '/dev/shm' : tmpdir())
  return root
}
