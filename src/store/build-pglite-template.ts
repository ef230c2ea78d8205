/**
 * `npm run build`'s last step: the embedded database's template (pglite-template.ts), made only when the one in
 * dist/ was not made from this PGlite and these migrations. Run as `node dist/src/store/build-pglite-template.js`.
 */
import { migrate } from './migrate.js'
import { openPgliteDriver } from './pglite-driver.js'
import { buildTemplate, defaultTemplatePath } from './pglite-template.js'

const target = process.argv[2] ?? defaultTemplatePath()
const started = Date.now()
const outcome = await buildTemplate(async (dir) => {
  const driver = await openPgliteDriver(dir, { template: false })
  try {
    await migrate(driver)
  } finally {
    await driver.close()
  }
}, target)
if (outcome === 'built') process.stdout.write(`embedded database template: ${target} (${Date.now() - started} ms)\n`)
