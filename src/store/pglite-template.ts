import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readMigrations } from './migrate.js'

/**
 * A ready-made embedded database: PGlite's initdb and every migration, run once at build time (`npm run build`)
 * and kept as a directory in dist/. A first boot on an empty DATA_DIR copies it instead of running initdb in the
 * server's process (seconds, and a peak of several hundred MB that stays resident), then migrates as usual with
 * nothing left to do. (A copy of files, not PGlite's own tarball loading, which unpacks through the database's
 * WASM memory and leaves it that much larger for the life of the process.) The template is used only when it
 * was made from this PGlite and these migrations (its key); anything else boots the slow way, always correct.
 */
export const TEMPLATE_NAME = 'pglite-template'
const KEY_SUFFIX = '.key'

/** The package's root: the nearest directory above this module holding package.json (src/ under tsx, dist/src/ built). */
function packageRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error('no package.json above src/store')
  }
}

export function defaultTemplatePath(): string {
  return path.join(packageRoot(), 'dist', TEMPLATE_NAME)
}

function pgliteVersion(): string {
  const pkg = path.join(packageRoot(), 'node_modules', '@electric-sql', 'pglite', 'package.json')
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/** What a template must have been made from to be used: this PGlite and exactly these migrations. */
export async function templateKey(): Promise<string> {
  const hash = createHash('sha256').update(`pglite ${pgliteVersion()}\n`)
  for (const m of await readMigrations()) hash.update(`${m.name} ${m.checksum}\n`)
  return hash.digest('hex')
}

/** The template directory when one made for this build is at `dir`; undefined otherwise. */
export async function currentTemplate(dir = defaultTemplatePath()): Promise<string | undefined> {
  try {
    const key = await readFile(dir + KEY_SUFFIX, 'utf8')
    return key.trim() === (await templateKey()) && existsSync(path.join(dir, 'PG_VERSION')) ? dir : undefined
  } catch {
    return undefined
  }
}

/** Files copied at once: a cluster is a thousand small files, and one at a time (as fs.cp goes) is twice as slow. */
const COPY_CONCURRENCY = 16

async function copyTree(from: string, to: string): Promise<void> {
  const entries = await readdir(from, { withFileTypes: true, recursive: true })
  const relative = (e: { parentPath: string; name: string }): string => path.relative(from, path.join(e.parentPath, e.name))
  await mkdir(to, { recursive: true })
  for (const d of entries.filter((e) => e.isDirectory()).map(relative).sort()) await mkdir(path.join(to, d), { recursive: true })
  const files = entries.filter((e) => e.isFile()).map(relative)
  let next = 0
  const copier = async (): Promise<void> => {
    for (let file = files[next++]; file !== undefined; file = files[next++]) await copyFile(path.join(from, file), path.join(to, file))
  }
  await Promise.all(Array.from({ length: COPY_CONCURRENCY }, copier))
}

/** Copies the template into `target` (an empty or missing directory); false when there is no current template. */
export async function copyTemplate(target: string, dir = defaultTemplatePath()): Promise<boolean> {
  const template = await currentTemplate(dir)
  if (template === undefined) return false
  await copyTree(template, target)
  return true
}

/**
 * Makes the template at `dir` unless the one there already has this build's key: `initialise` creates and
 * migrates a cluster in the directory it is given, beside the final one, which is then renamed into place and
 * its key written last, so a build interrupted half-way leaves nothing that would be trusted.
 */
export async function buildTemplate(
  initialise: (dir: string) => Promise<void>,
  dir = defaultTemplatePath()
): Promise<'built' | 'current'> {
  if ((await currentTemplate(dir)) !== undefined) return 'current'
  const key = await templateKey()
  const work = `${dir}.tmp`
  await rm(work, { recursive: true, force: true })
  await rm(dir + KEY_SUFFIX, { force: true })
  try {
    await initialise(work)
    await rm(dir, { recursive: true, force: true })
    await rename(work, dir)
    await writeFile(`${dir + KEY_SUFFIX}.tmp`, `${key}\n`)
    await rename(`${dir + KEY_SUFFIX}.tmp`, dir + KEY_SUFFIX)
    return 'built'
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
