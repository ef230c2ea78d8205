import { randomUUID } from 'node:crypto'
import { eachBackend } from '../helpers/flowrunner.js'
import { openTestQueue } from '../helpers/queue.js'

type Job = { label: string; accountId?: string }

/** A queue with jobs sent in the order given, each a second younger than the one before (their created_on). */
async function queueOf(t: Parameters<Parameters<typeof eachBackend>[1]>[0], backend: 'pglite' | 'postgres', jobs: Job[]) {
  const { driver, queue, schema } = await openTestQueue(t, backend)
  await queue.createQueue('fair')
  const ids = new Map<string, string>()
  for (const [i, job] of jobs.entries()) {
    const id = randomUUID()
    await queue.send('fair', job, { id, expireInSeconds: 70, retryLimit: 5 })
    await driver.query(`UPDATE ${schema}.job SET created_on = now() - ($2::int * interval '1 second') WHERE id = $1`, [id, jobs.length - i])
    ids.set(job.label, id)
  }
  const claim = async (max: number, running: Record<string, number>, cap = 2): Promise<string[]> => {
    const claimed = await queue.fetchFair<Job>('fair', max, { groupBy: 'accountId', running: new Map(Object.entries(running)), cap })
    return claimed.map((j) => j.data.label).sort()
  }
  return { driver, queue, schema, ids, claim }
}

eachBackend('a fair claim takes turns between accounts, oldest first, and none beyond an account\'s cap', async (t, backend) => {
  const a = (label: string): Job => ({ label, accountId: 'acct-a' })
  const { claim } = await queueOf(t, backend, [
    a('a1'), a('a2'), a('a3'), a('a4'),
    { label: 'b1', accountId: 'acct-b' }, { label: 'b2', accountId: 'acct-b' },
    // sent before accounts were named in jobs: one account of their own
    { label: 'old1' },
    { label: 'c1', accountId: 'acct-c' },
    { label: 'old2' }
  ])
  t.same(await claim(5, {}), ['a1', 'b1', 'c1', 'old1', 'a2'].sort(), "every account's oldest job, then the oldest second job")
  t.same(await claim(10, { 'acct-a': 2, 'acct-b': 1, 'acct-c': 1, '': 1 }), ['b2', 'old2'], 'nothing of an account at its cap')
  t.same(await claim(10, { 'acct-a': 2, 'acct-b': 2, 'acct-c': 1, '': 2 }), [], "the account's other jobs wait")
  t.same(await claim(10, { 'acct-a': 1 }), ['a3'], 'an account one below its cap gets one job')
  t.same(await claim(10, {}), ['a4'])
})

eachBackend("an account at its cap can't hide the others' jobs behind its backlog", async (t, backend) => {
  const backlog = Array.from({ length: 40 }, (_, i): Job => ({ label: `a${i}`, accountId: 'acct-a' }))
  const { claim } = await queueOf(t, backend, [...backlog, { label: 'b1', accountId: 'acct-b' }])
  t.same(await claim(1, { 'acct-a': 2 }), ['b1'], "B's job, though forty of A's are older")
  t.same(await claim(4, { 'acct-a': 1 }), ['a0'])
})

eachBackend("a fair claim changes a job as pg-boss's fetch does, first time and retried", async (t, backend) => {
  const { driver, queue, schema, ids } = await queueOf(t, backend, [{ label: 'theirs' }, { label: 'ours' }])
  const theirs = ids.get('theirs') as string
  const ours = ids.get('ours') as string
  const rows = async (): Promise<Array<Record<string, unknown>>> => {
    const { rows } = await driver.query<Record<string, unknown>>(
      `SELECT to_jsonb(j) - 'id' - 'data' - 'created_on' - 'started_on' - 'start_after' - 'keep_until' AS row,
              started_on IS NOT NULL AND started_on >= created_on AS started
         FROM ${schema}.job j WHERE id = ANY($1::uuid[]) ORDER BY created_on`,
      [[theirs, ours]]
    )
    return rows
  }

  for (const round of [1, 2]) {
    t.same((await queue.fetch<Job>('fair', 1)).map((j) => j.id), [theirs], `round ${round}: pg-boss's fetch takes the older`)
    t.same((await queue.fetchFair<Job>('fair', 1, { groupBy: 'accountId', running: new Map(), cap: 2 })).map((j) => j.id), [ours])
    const [own, fair] = await rows()
    t.same(fair, own, `round ${round}: the same row`)
    t.match(fair, { row: { state: 'active', retry_count: round - 1 }, started: true })
    // handed back, as a stopping worker does: both are claimed again and counted as retries
    await queue.fail('fair', theirs, 'stopping')
    await queue.fail('fair', ours, 'stopping')
  }
})
