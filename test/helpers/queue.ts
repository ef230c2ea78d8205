import { JobQueue } from '../../src/queue/job-queue.js'
import type { Driver } from '../../src/store/driver.js'
import { openPostgresDriver } from '../../src/store/postgres-driver.js'
import { openTestDriver, testSchema, type Backend, type Tap } from './flowrunner.js'

/**
 * pg-boss on a fresh database of the backend, through the same adapter the app uses for PGlite; the driver and
 * the queue are closed in teardown. On Postgres the queue's schema sits beside the test's, dropped with it.
 */
export async function openTestQueue(t: Tap, backend: Backend): Promise<{ driver: Driver; queue: JobQueue; schema: string }> {
  let driver: Driver
  let schema = 'pgboss'
  if (backend === 'postgres') {
    const test = await testSchema(t)
    driver = await openPostgresDriver({ connectionString: test.url, poolSize: 2 })
    t.teardown(() => driver.close())
    schema = `${test.schema}_q`
  } else {
    driver = await openTestDriver(t, backend)
  }
  const queue = await JobQueue.open(driver, { schema, maintenanceIntervalSeconds: 60, onError: (err) => t.fail(`queue error: ${err.message}`) })
  t.teardown(() => queue.stop())
  return { driver, queue, schema }
}
