import { setTimeout as pause } from 'node:timers/promises'
import { MISSED_TICKS_MESSAGE } from '../../src/flows/triggers/scheduler.js'
import { createFlow } from '../helpers/executions.js'
import { backendEnv, buildFlowRunner, eachBackend, type FlowRunner } from '../helpers/flowrunner.js'
import { LogCapture, tempDir } from '../helpers/gateway.js'

const POLL_MS = 200
/** The downtime the issue names. */
const DOWN_MS = 5000
const MODES = ['skip', 'once', 'all'] as const

function everySecond(mode: string): string {
  return `metadata:
  name: catch-up-${mode}
nodes:
  start:
    type: transform
    params:
      expression: 'execution.trigger.tick'
triggers:
  - id: tick
    type: schedule
    cron: "* * * * * *"
    catch_up: ${mode}
`
}

async function ticksOf(fr: FlowRunner, flowId: string): Promise<number[]> {
  const rows = await fr.sql<{ tick: string }>("SELECT triggered_by->>'tick' AS tick FROM executions WHERE flow_id = $1", [flowId])
  return rows.map((r) => Date.parse(r.tick)).sort((a, b) => a - b)
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(v)}`)
    await pause(50)
  }
}

interface MissedLine {
  flowId: string
  missed: number
  caughtUp: number
  catchUp: string
  missedBefore: string
}

// Issue 21: a server stopped for 5 s; after the restart `catch_up: all` runs each missed tick, `skip` none,
// `once` one. The restarted scheduler logs, per schedule, where "missed" ended (ticks older than its first
// look minus the grace period): the assertions count the ticks run before that instant.
eachBackend('schedules after downtime: catch_up skip runs no missed tick, once one, all each', async (t, backend) => {
  const dir = await tempDir(t)
  const env = { ...(await backendEnv(t, backend)), FLOWRUNNER_POLL_MS: String(POLL_MS) }
  const first = await buildFlowRunner(t, { backend, dir, env })
  const flows = new Map<string, string>()
  for (const mode of MODES) flows.set(mode, await createFlow(first, first.admin.token, everySecond(mode)))
  for (const id of flows.values()) await until('a first tick', () => ticksOf(first, id), (ticks) => ticks.length >= 1)
  await first.app.close()
  const stoppedAt = new Date()
  await pause(DOWN_MS)

  const logs = new LogCapture()
  const second = await buildFlowRunner(t, { backend, dir, env, logs })
  // the last tick the first server ran: what it created before it stopped
  const lastBefore = new Map<string, number>()
  for (const [mode, id] of flows) {
    const rows = await second.sql<{ tick: string }>(
      "SELECT max(triggered_by->>'tick') AS tick FROM executions WHERE flow_id = $1 AND created_at < $2",
      [id, stoppedAt]
    )
    lastBefore.set(mode, Date.parse(rows[0]?.tick ?? ''))
  }
  for (const [mode, id] of flows) {
    const ticks = await until(`${mode} to run again`, () => ticksOf(second, id), (ticks) => ticks.some((x) => x > Date.now() - 1000))
    const line = logs.lines.map((l) => JSON.parse(l) as Partial<MissedLine> & { msg?: string }).find((l) => l.flowId === id && l.msg === MISSED_TICKS_MESSAGE) as MissedLine | undefined
    if (line === undefined) throw new Error(`no missed-ticks line for ${mode}`)
    const before = lastBefore.get(mode) ?? 0
    const missedBefore = Date.parse(line.missedBefore)
    const missedSeconds: number[] = []
    for (let s = before + 1000; s < missedBefore; s += 1000) missedSeconds.push(s)
    t.ok(missedSeconds.length >= DOWN_MS / 1000 - 1, `${mode}: ${missedSeconds.length} ticks missed while stopped`)
    t.equal(line.missed, missedSeconds.length, `${mode}: the scheduler counted them`)
    t.equal(line.catchUp, mode)
    const ranMissed = ticks.filter((x) => x > before && x < missedBefore)
    const expected = mode === 'skip' ? [] : mode === 'once' ? missedSeconds.slice(-1) : missedSeconds
    t.same(ranMissed, expected, `${mode}: the missed ticks run`)
    t.equal(line.caughtUp, expected.length)
    t.equal(new Set(ticks).size, ticks.length, `${mode}: no tick twice`)
    // from the restart on, every tick on time runs
    const onTime = ticks.filter((x) => x >= missedBefore)
    t.ok(onTime.length >= 1 && onTime.every((x, i) => i === 0 || x - (onTime[i - 1] as number) === 1000), `${mode}: on time again, each second`)
  }
})
