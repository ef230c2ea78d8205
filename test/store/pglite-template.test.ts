import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { migrate, readMigrations } from '../../src/store/migrate.js'
import { openPgliteDriver } from '../../src/store/pglite-driver.js'
import { buildTemplate, currentTemplate } from '../../src/store/pglite-template.js'
import { tempDir } from '../helpers/gateway.js'

async function appliedVersions(dir: string, template: false | string): Promise<number[] | string> {
  const db = await openPgliteDriver(dir, { template })
  try {
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
    return rows.map((r) => r.version)
  } catch (err) {
    return (err as Error).message
  } finally {
    await db.close()
  }
}

t.test("a first boot copies the build's migrated cluster; a template made from other migrations is not used", async (t) => {
  const root = await tempDir(t, 'fr-template-')
  const template = path.join(root, 'pglite-template')
  const initialise = async (dir: string): Promise<void> => {
    const db = await openPgliteDriver(dir, { template: false })
    await migrate(db)
    await db.close()
  }
  t.equal(await buildTemplate(initialise, template), 'built')
  t.equal(await buildTemplate(initialise, template), 'current', 'a second build keeps the template it finds current')
  t.same(
    (await readdir(root)).sort(),
    ['pglite-template', 'pglite-template.key'],
    'nothing half-made is left beside it (work directory, lock)'
  )

  const all = (await readMigrations()).map((m) => m.version)
  t.same(await appliedVersions(path.join(root, 'fresh'), template), all, 'the empty directory starts with every migration applied')
  const reopened = await openPgliteDriver(path.join(root, 'fresh'), { template })
  t.same(await migrate(reopened), [], 'and the boot migration finds nothing to do')
  await reopened.close()

  await writeFile(`${template}.key`, 'made-from-other-migrations\n')
  t.equal(await currentTemplate(template), undefined, 'a key that does not match this build is not current')
  t.match(
    await appliedVersions(path.join(root, 'stale'), template),
    /schema_migrations.*does not exist/,
    'so a first boot runs initdb instead, and migrates from nothing'
  )
  t.equal(await buildTemplate(initialise, template), 'built', 'the next build replaces it')
})
