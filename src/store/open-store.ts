import path from 'node:path'
import type { Driver } from './driver.js'
import { migrate } from './migrate.js'
import { openPgliteDriver } from './pglite-driver.js'
import { openPostgresDriver } from './postgres-driver.js'

export interface StoreSettings {
  dataDir: string
  databaseUrl: string | undefined
  databasePoolSize: number
}

export interface StoreLog {
  info(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** PostgreSQL when DATABASE_URL is set, else PGlite under DATA_DIR; migrated before anyone uses it. */
export async function openStore(settings: StoreSettings, log: StoreLog): Promise<Driver> {
  const driver =
    settings.databaseUrl !== undefined
      ? await openPostgresDriver({
          connectionString: settings.databaseUrl,
          poolSize: settings.databasePoolSize,
          onPoolError: (err) => log.error({ err }, 'idle database connection failed')
        })
      : await openPgliteDriver(path.join(settings.dataDir, 'pglite'), {
          onVacuum: (err) => {
            if (err !== undefined) log.error({ err }, 'vacuuming the embedded database failed')
          }
        })
  try {
    const applied = await migrate(driver)
    log.info({ driver: driver.kind, applied }, 'database ready')
  } catch (err) {
    await driver.close()
    throw err
  }
  return driver
}
