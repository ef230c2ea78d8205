// Copies the non-TypeScript files the compiled app reads at run time into dist/, beside the modules that
// load them (tsc only emits .js): the SQL migrations, found next to src/store/migrate.ts.
import { cp, mkdir, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const assets = [{ from: 'src/store/migrations', to: 'dist/src/store/migrations', ext: '.sql' }]

for (const { from, to, ext } of assets) {
  const source = path.join(root, from)
  const target = path.join(root, to)
  // a migration deleted from src must not linger in dist
  await rm(target, { recursive: true, force: true })
  await mkdir(target, { recursive: true })
  const files = (await readdir(source)).filter((f) => f.endsWith(ext))
  for (const file of files) await cp(path.join(source, file), path.join(target, file))
}
