import { FlowRunnerApi } from '../../dev/demo/flowrunner-api.js'
import { commandCpuMs, CpuMeter } from './cpu.js'
import type { Io } from './fanout.js'
import { retryShed } from './flow-load.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, createSchemas, startFlowServer } from './flow-server.js'
import type { Goal } from './report.js'

export interface IdleSettings {
  /** Flows created, each with one schedule that does not fire during the measurement. */
  schedules: number
  /** Length of each measured window. */
  seconds: number
  databaseUrl: string
}

/** A schedule that fires once a year (on 1 January), so it stays idle while measured. */
function scheduledFlow(i: number): string {
  return `metadata:
  name: idle-schedule-${i}
nodes:
  start:
    type: transform
    params:
      expression: '"tick"'
triggers:
  - id: yearly
    type: schedule
    cron: "0 3 1 1 *"
    timezone: Europe/Paris
`
}

interface Window {
  serverMsPerS: number | undefined
  dbMsPerS: number | undefined
}

async function measure(pid: number, seconds: number): Promise<Window> {
  const cpu = new CpuMeter(pid)
  const db0 = commandCpuMs('postgres')
  cpu.start()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const used = cpu.stop()
  const db1 = commandCpuMs('postgres')
  return {
    serverMsPerS: used.serverMs === undefined ? undefined : used.serverMs / seconds,
    dbMsPerS: db0 === undefined || db1 === undefined ? undefined : (db1 - db0) / seconds
  }
}

const fmt = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(2)} ms/s (${(v / 10).toFixed(2)} % of a core)`)

/**
 * `npm run bench:flows -- idle`: what schedules cost while nothing fires. One server on PostgreSQL, idle, is
 * measured (its CPU and all postgres processes') for a window; then `schedules` flows, each with a schedule,
 * are created and the same window measured again. The scheduler's idle work is one indexed query per poll
 * (FLOWRUNNER_POLL_MS, default 1 s), whatever the number of schedules.
 */
export async function runIdleSchedules(s: IdleSettings, simUrl: string, io: Io): Promise<Goal[]> {
  const { log, progress } = io
  const schemas = await createSchemas(s.databaseUrl)
  io.live.add(schemas)
  const server = await startFlowServer({ backend: 'postgres', concurrency: 10, simulatorUrl: simUrl, receiverPort: 9, schemas })
  const api = new FlowRunnerApi(server.url, { connections: 4 })
  try {
    await retryShed(() => api.login(ADMIN_EMAIL, ADMIN_PASSWORD))
    // the boot's own work (migrations, pools, JIT, pg-boss's first maintenance) settles first
    await new Promise((r) => setTimeout(r, 20_000))
    progress(`idle schedules: ${s.seconds} s with no schedule`)
    const none = await measure(server.child.pid, s.seconds)
    progress(`idle schedules: creating ${s.schedules} flows with a schedule each`)
    for (let i = 0; i < s.schedules; i++) await api.createFlow({ name: `idle-${i}`, definition: scheduledFlow(i) })
    await new Promise((r) => setTimeout(r, 5000))
    progress(`idle schedules: ${s.seconds} s with ${s.schedules} schedules`)
    const some = await measure(server.child.pid, s.seconds)
    log()
    log(`idle schedules, PostgreSQL, FLOWRUNNER_POLL_MS=1000, ${s.seconds} s windows (server CPU; postgres = every postgres process on the machine)`)
    log(`  no schedule:       server ${fmt(none.serverMsPerS)}, postgres ${fmt(none.dbMsPerS)}`)
    log(`  ${String(s.schedules).padEnd(3)} schedules:     server ${fmt(some.serverMsPerS)}, postgres ${fmt(some.dbMsPerS)}`)
    return []
  } finally {
    await api.close()
    await server.child.stop()
    await server.cleanup()
  }
}
