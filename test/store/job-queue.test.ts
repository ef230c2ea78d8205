import tap from 'tap'
import { JobQueue } from '../../src/queue/job-queue.js'
import { openTestDriver, testSchema } from '../helpers/flowrunner.js'

// Replicas booting together each create the queues they work. pg-boss's create_queue inserts the queue row and
// then attaches a partition that references the queue table, so two creating the same queue at once can
// deadlock in PostgreSQL; the loser must not fail its boot.
void tap.test('replicas creating the same queues at once all boot [postgres]', async (t) => {
  const { url, schema } = await testSchema(t)
  const driver = await openTestDriver(t, 'postgres')
  const open = (): Promise<JobQueue> =>
    JobQueue.open(driver, {
      schema: `${schema}_q`,
      maintenanceIntervalSeconds: 60,
      databaseUrl: url,
      poolSize: 2,
      onError: (err) => t.fail(`queue error: ${err.message}`)
    })
  const a = await open()
  const b = await open()
  const c = await open()
  t.teardown(async () => {
    await Promise.all([a.stop(), b.stop(), c.stop()])
  })
  const names = Array.from({ length: 8 }, (_, i) => `boot-race-${i}`)
  for (const name of names) {
    const results = await Promise.allSettled([a.createQueue(name), b.createQueue(name), c.createQueue(name)])
    t.same(
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')),
      ['ok', 'ok', 'ok'],
      `${name}: every replica has the queue`
    )
  }
  for (const name of names) {
    t.ok((await a.send(name, { n: 1 })) !== null, `${name} takes jobs`)
  }
})
