import { readdirSync, readFileSync } from 'node:fs'

/**
 * CPU time from /proc (Linux), so a result on a shared machine can be read in work per execution, which does
 * not depend on what else runs, as well as in executions per second, which does. Undefined without /proc.
 */

/** USER_HZ: 100 on every Linux the project runs on (Node has no sysconf to ask). */
const TICK_MS = 10

/** User + system CPU milliseconds a process has used so far. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count fields after its closing ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * TICK_MS : undefined
  } catch {
    return undefined
  }
}

/** The whole machine's busy and total CPU milliseconds so far (all cores). */
export function machineCpuMs(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
    return { busy: (total - idle) * TICK_MS, total: total * TICK_MS }
  } catch {
    return undefined
  }
}

/** CPU used between `start()` and `stop()`: by one process, by this process, and by the machine. */
export class CpuMeter {
  private server0: number | undefined
  private self0 = process.cpuUsage()
  private machine0: { busy: number; total: number } | undefined

  constructor(private readonly pid: number) {}

  start(): void {
    this.server0 = processCpuMs(this.pid)
    this.self0 = process.cpuUsage()
    this.machine0 = machineCpuMs()
  }

  stop(): { serverMs: number | undefined; selfMs: number; machineBusy: number | undefined } {
    const server1 = processCpuMs(this.pid)
    const self = process.cpuUsage(this.self0)
    const machine1 = machineCpuMs()
    const m0 = this.machine0
    return {
      serverMs: server1 === undefined || this.server0 === undefined ? undefined : server1 - this.server0,
      selfMs: (self.user + self.system) / 1000,
      // share of all cores that were busy, 0..1
      machineBusy: machine1 === undefined || m0 === undefined || machine1.total === m0.total ? undefined : (machine1.busy - m0.busy) / (machine1.total - m0.total)
    }
  }
}

/**
 * User + system CPU milliseconds used so far by every live process whose command is `comm` (e.g. `postgres`:
 * the database's backends and background workers, whoever they serve). Processes that exited in between are
 * not counted, so compare two readings over a window in which the set stays put (a pool's connections).
 */
export function commandCpuMs(comm: string): number | undefined {
  let dirs: string[]
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  } catch {
    return undefined
  }
  let total = 0
  for (const pid of dirs) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== comm) continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) * TICK_MS
    } catch {
      // gone meanwhile
    }
  }
  return total
}
