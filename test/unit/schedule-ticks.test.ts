import tap from 'tap'
import { dueTicks, Schedule, type DuePlan } from '../../src/flows/triggers/cron.js'
import type { CatchUp } from '../../src/flows/triggers/trigger-schema.js'

function schedule(cron: string, zone = 'UTC'): Schedule {
  const parsed = Schedule.parse(cron, zone)
  if (!('schedule' in parsed)) throw new Error(parsed.reason)
  return parsed.schedule
}

const GRACE = 2000
const iso = (d: Date): string => d.toISOString()

/**
 * The scheduler's loop under an injected clock: from `start`, wake at each next tick (or every `stepMs` when
 * `stepMs` is given), fire what `dueTicks` says, move the next tick on. Returns every tick fired.
 */
function run(s: Schedule, start: Date, end: Date, catchUp: CatchUp, stepMs?: number): Date[] {
  const fired: Date[] = []
  let next = s.next(start)
  let now = start
  while (next !== undefined && now < end) {
    now = stepMs === undefined ? next : new Date(now.getTime() + stepMs)
    if (now > end) break
    if (next > now) continue
    const plan: DuePlan = dueTicks(s, next, now, catchUp, GRACE)
    fired.push(...plan.fire)
    next = plan.next
  }
  return fired
}

tap.test('DST: 02:00 Europe/Paris fires once on the spring-forward day, at the jump', async (t) => {
  // 2026-03-29: clocks go from 02:00 to 03:00 in Paris; 02:00 does not exist that day
  const s = schedule('0 2 * * *', 'Europe/Paris')
  const fired = run(s, new Date('2026-03-27T12:00:00Z'), new Date('2026-03-31T12:00:00Z'), 'once')
  t.same(fired.map(iso), ['2026-03-28T01:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z', '2026-03-31T00:00:00.000Z'])
  const local = fired.map((d) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' }).format(d))
  t.same(local, ['28/03/2026, 02:00', '29/03/2026, 03:00', '30/03/2026, 02:00', '31/03/2026, 02:00'], 'the missing 02:00 runs at 03:00, once')
  // the same with a clock that ticks every minute rather than waking at each tick
  t.same(run(s, new Date('2026-03-28T12:00:00Z'), new Date('2026-03-29T12:00:00Z'), 'once', 60_000).map(iso), ['2026-03-29T01:00:00.000Z'])
})

tap.test('DST: 02:30 Europe/Paris fires once on the fall-back day, though 02:30 happens twice', async (t) => {
  // 2026-10-25: clocks go from 03:00 back to 02:00
  const s = schedule('30 2 * * *', 'Europe/Paris')
  const fired = run(s, new Date('2026-10-24T12:00:00Z'), new Date('2026-10-25T12:00:00Z'), 'all', 60_000)
  t.same(fired.map(iso), ['2026-10-25T00:30:00.000Z'], 'the first 02:30 (summer time) only')
})

tap.test('an on-time tick runs whatever catch_up says', async (t) => {
  const s = schedule('* * * * * *')
  const from = new Date('2026-01-01T00:00:10Z')
  for (const mode of ['skip', 'once', 'all'] as const) {
    const plan = dueTicks(s, from, new Date('2026-01-01T00:00:10.300Z'), mode, GRACE)
    t.same(plan.fire.map(iso), ['2026-01-01T00:00:10.000Z'], mode)
    t.equal(plan.skipped, 0)
    t.equal(iso(plan.next as Date), '2026-01-01T00:00:11.000Z')
  }
  t.same(dueTicks(s, from, new Date('2026-01-01T00:00:09Z'), 'all', GRACE).fire, [], 'nothing before its time')
})

tap.test('after downtime: skip runs no missed tick, once the latest, all each (capped), oldest first', async (t) => {
  const s = schedule('* * * * * *')
  // the next tick was 00:00:10; the scheduler comes back at 00:00:20.5: 10..18 are missed, 19 and 20 on time
  const from = new Date('2026-01-01T00:00:10Z')
  const now = new Date('2026-01-01T00:00:20.500Z')
  const on = ['2026-01-01T00:00:19.000Z', '2026-01-01T00:00:20.000Z']
  const skip = dueTicks(s, from, now, 'skip', GRACE)
  t.same(skip.fire.map(iso), on)
  t.equal(skip.skipped, 9)
  const once = dueTicks(s, from, now, 'once', GRACE)
  t.same(once.fire.map(iso), ['2026-01-01T00:00:18.000Z', ...on])
  t.equal(once.skipped, 8)
  const all = dueTicks(s, from, now, 'all', GRACE)
  t.same(all.fire.map(iso), [...Array.from({ length: 9 }, (_, i) => `2026-01-01T00:00:${String(10 + i).padStart(2, '0')}.000Z`), ...on])
  t.equal(all.skipped, 0)
  t.equal(iso(all.next as Date), '2026-01-01T00:00:21.000Z')

  // a day down with a per-second schedule: `all` runs the latest 100 missed ticks, oldest first
  const dayLater = new Date('2026-01-02T00:00:10.500Z')
  const capped = dueTicks(s, from, dayLater, 'all', GRACE)
  const missed = capped.fire.filter((d) => d.getTime() < dayLater.getTime() - GRACE)
  t.equal(missed.length, 100)
  t.equal(iso(missed[99] as Date), '2026-01-02T00:00:08.000Z')
  t.ok(capped.fire.every((d, i) => i === 0 || d > (capped.fire[i - 1] as Date)), 'oldest first')
  t.equal(capped.skipped, 86_399 - 100)
})

tap.test('cron and zone checks', async (t) => {
  t.match(Schedule.parse('0 2 * *', 'UTC'), { field: 'cron', reason: /5 fields/ })
  t.match(Schedule.parse('0 0 2 * * * 2030', 'UTC'), { field: 'cron', reason: /not 7/ })
  t.match(Schedule.parse('0 2 * * *', 'Europe/Pariss'), { field: 'timezone' })
  t.match(Schedule.parse('0 0 31 2 *', 'UTC'), { field: 'cron', reason: /never fires/ })
  t.ok('schedule' in Schedule.parse('*/15 9-17 * * 1-5', 'America/New_York'))
  // six fields: seconds first
  t.equal(iso(schedule('30 0 0 * * *').next(new Date('2026-01-01T00:00:00Z')) as Date), '2026-01-01T00:00:30.000Z')
})

tap.test('DST: a time inside the skipped hour fires once, an hour later by the clock', async (t) => {
  const s = schedule('30 2 * * *', 'Europe/Paris')
  const fired = run(s, new Date('2026-03-28T12:00:00Z'), new Date('2026-03-29T12:00:00Z'), 'once', 60_000)
  t.same(fired.map(iso), ['2026-03-29T01:30:00.000Z'], '03:30 CEST, once')
})
