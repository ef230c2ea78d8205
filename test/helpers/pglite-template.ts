import { rmSync } from 'node:fs'
import { access, cp, mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { openPgliteDriver } from '../../src/store/pglite-driver.js'
import { copyTemplate } from '../../src/store/pglite-template.js'
import { testTmpRoot } from './tmp-root.js'

let template: Promise<string> | undefined

/** An initialised, empty PGlite cluster made once per test process (initdb is most of PGlite's boot time). */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const root = await mkdtemp(path.join(testTmpRoot(), 'fr-pglite-template-'))
    process.once('exit', () => rmSync(root, { recursive: true, force: true }))
    const dir = path.join(root, 'pglite')
    await (await openPgliteDriver(dir, { template: false })).close()
    return dir
  })()
  return template
}

/**
 * Gives DATA_DIR a copy of a template cluster unless it already has a database, so the app opens an existing
 * cluster (a fraction of a second) instead of running initdb (seconds, more on a loaded machine). `migrated`:
 * the build's template (every migration applied, as a first boot gets it: src/store/pglite-template.ts) when it
 * is current, else this process's empty one; migrations still run at boot, as in production.
 */
export async function seedPglite(dataDir: string, { migrated = true }: { migrated?: boolean } = {}): Promise<void> {
  const target = path.join(dataDir, 'pglite')
  try {
    await access(target)
    return
  } catch {
    if (migrated && (await copyTemplate(target))) return
    await cp(await pgliteTemplate(), target, { recursive: true })
  }
}
