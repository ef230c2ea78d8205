import { rmSync } from 'node:fs'
import { access, cp, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openPgliteDriver } from '../../src/store/pglite-driver.js'

let template: Promise<string> | undefined

/** An initialised, empty PGlite cluster made once per test process (initdb is most of PGlite's boot time). */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'fr-pglite-template-'))
    process.once('exit', () => rmSync(root, { recursive: true, force: true }))
    const dir = path.join(root, 'pglite')
    await (await openPgliteDriver(dir)).close()
    return dir
  })()
  return template
}

/**
 * Gives DATA_DIR a copy of the template cluster unless it already has a database, so the app opens an
 * existing cluster (a fraction of a second) instead of running initdb (seconds, more on a loaded machine).
 * Migrations still run at boot, as in production.
 */
export async function seedPglite(dataDir: string): Promise<void> {
  const target = path.join(dataDir, 'pglite')
  try {
    await access(target)
    return
  } catch {
    await cp(await pgliteTemplate(), target, { recursive: true })
  }
}
