import { Cron } from 'croner'
import { MAX_CATCH_UP_TICKS, type CatchUp } from './trigger-schema.js'

/** How many ticks a missed-tick count walks before it stops counting (a second-schedule down for days). */
const MAX_COUNTED = 100_000

/** A cron expression in a time zone: 5 fields, or 6 with seconds first. Daylight-saving changes: see `dueTicks`. */
export class Schedule {
  private readonly cron: Cron

  private constructor(cron: Cron) {
    this.cron = cron
  }

  /** The schedule, or the reason the expression or zone is refused (for a 422 at that field). */
  static parse(expression: string, timezone: string): { schedule: Schedule } | { field: 'cron' | 'timezone'; reason: string } {
    if (!isTimeZone(timezone)) return { field: 'timezone', reason: `"${timezone}" is not an IANA time zone (such as UTC or Europe/Paris)` }
    const fields = expression.trim().split(/\s+/)
    if (fields.length !== 5 && fields.length !== 6) {
      return { field: 'cron', reason: `must have 5 fields (minute hour day month weekday) or 6 (seconds first), not ${fields.length}` }
    }
    let cron: Cron
    try {
      cron = new Cron(fields.join(' '), { timezone, paused: true })
    } catch (err) {
      return { field: 'cron', reason: `is not a cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}` }
    }
    const schedule = new Schedule(cron)
    if (schedule.next(new Date()) === undefined) return { field: 'cron', reason: 'never fires (no date matches it)' }
    return { schedule }
  }

  /** The first tick strictly after `after`. */
  next(after: Date): Date | undefined {
    return this.cron.nextRun(after) ?? undefined
  }

  /** Up to `n` ticks strictly before `before`, newest first. */
  previous(n: number, before: Date): Date[] {
    return this.cron.previousRuns(n, before)
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

export interface DuePlan {
  /** The ticks to run now, oldest first. */
  fire: Date[]
  /** Ticks found past the grace period, before `missedBefore` (a count; at most MAX_COUNTED). */
  missed: number
  /** Ticks before this time were missed; from it on they are on time. */
  missedBefore: Date
  /** Missed ticks that `catch_up` left out. */
  skipped: number
  /** The first tick after `now`: the trigger's next fire time. */
  next: Date | undefined
}

/**
 * What a schedule whose next unfired tick is `from` runs at `now`. A tick found within `graceMs` of its time
 * is on time and runs; older ones were missed (no replica was up, or the trigger was being saved) and
 * `catchUp` decides: `skip` none, `once` the latest, `all` each (the latest MAX_CATCH_UP_TICKS). Daylight
 * saving: a time that does not exist that day (02:30 when clocks jump from 02:00 to 03:00) fires once, an hour
 * later by the clock (03:30; 02:00 at 03:00); a time that happens twice (clocks go back) fires the first time only.
 */
export function dueTicks(schedule: Schedule, from: Date, now: Date, catchUp: CatchUp, graceMs: number): DuePlan {
  const next = schedule.next(now)
  if (from.getTime() > now.getTime()) return { fire: [], missed: 0, missedBefore: now, skipped: 0, next: from }
  const onTimeFrom = Math.max(from.getTime(), now.getTime() - graceMs)
  const onTime: Date[] = []
  for (let t: Date | undefined = onTimeFrom === from.getTime() ? from : schedule.next(new Date(onTimeFrom - 1)); t !== undefined && t <= now; t = schedule.next(t)) {
    onTime.push(t)
  }
  const missedBefore = new Date(onTimeFrom)
  const keep = catchUp === 'skip' ? 0 : catchUp === 'once' ? 1 : MAX_CATCH_UP_TICKS
  // croner looks back from the whole second at or before its reference (ticks are whole seconds), and near a
  // daylight-saving jump can return the reference's own tick: ask from the next whole second for one more,
  // and keep only the ticks truly in [from, missedBefore)
  const lookBackFrom = new Date(Math.ceil(onTimeFrom / 1000) * 1000)
  // nothing missed (the usual firing, on time): no look back, which costs croner a walk back through the
  // schedule's gaps (a day of seconds for a daily cron)
  if (missedBefore.getTime() <= from.getTime()) return { fire: onTime, missed: 0, missedBefore, skipped: 0, next }
  const caughtUp =
    keep === 0
      ? []
      : schedule
          .previous(keep + 1, lookBackFrom)
          .filter((t) => t >= from && t < missedBefore)
          .slice(0, keep)
          .reverse()
  const missed = countTicks(schedule, from, missedBefore)
  return { fire: [...caughtUp, ...onTime], missed, missedBefore, skipped: Math.max(0, missed - caughtUp.length), next }
}

/** Ticks in [from, before), counted up to MAX_COUNTED. */
function countTicks(schedule: Schedule, from: Date, before: Date): number {
  let n = 0
  for (let t: Date | undefined = from; t !== undefined && t < before && n < MAX_COUNTED; t = schedule.next(t)) n++
  return n
}
