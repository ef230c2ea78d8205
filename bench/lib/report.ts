import { crashes } from './children.js'
import type { RateMeasurement } from './fixed-rate.js'
import type { Measurement } from './load.js'

export interface Goal {
  ok: boolean
  text: string
}

const MB = 1024 * 1024

export const fmtMs = (ms: number): string => (Number.isFinite(ms) ? ms.toFixed(2) : 'n/a')
export const fmtMb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`
const fmtRps = (rps: number): string => Math.round(rps).toLocaleString('en-US')
const fmtRatio = (ratio: number): string => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a')
const signed = (ms: number): string => `${ms >= 0 ? '+' : ''}${fmtMs(ms)} ms`

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')
}

const fmtCpu = (us: number | undefined): string => (us === undefined ? 'n/a' : us.toFixed(0))

export function table(measurements: Measurement[]): string {
  const widths = [16, 10, 9, 9, 8, 8, 12]
  const lines = [row(['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'cpu us/req'], widths)]
  for (const m of measurements) {
    lines.push(
      row([m.target, fmtRps(m.rps), fmtMs(m.p50), fmtMs(m.p99), String(m.errors), String(m.non2xx), fmtCpu(m.cpuUsPerRequest)], widths)
    )
  }
  return lines.map((l) => `  ${l}`).join('\n')
}

export interface Comparison {
  /** Gateway CPU per request over the proxy's: what the throughput ratio becomes when the machine is quiet. */
  cpuVsProxy: number | undefined
  vsProxy: number
  vsDirect: number
  p99AddedVsDirect: number
  p99AddedVsProxy: number
}

export function compare(direct: Measurement, proxy: Measurement, gateway: Measurement): Comparison {
  const cpuVsProxy =
    gateway.cpuUsPerRequest === undefined || proxy.cpuUsPerRequest === undefined ? undefined : gateway.cpuUsPerRequest / proxy.cpuUsPerRequest
  return {
    cpuVsProxy,
    vsProxy: gateway.rps / proxy.rps,
    vsDirect: gateway.rps / direct.rps,
    p99AddedVsDirect: gateway.p99 - direct.p99,
    p99AddedVsProxy: gateway.p99 - proxy.p99
  }
}

export function comparisonLine(c: Comparison): string {
  return [
    `  gateway/proxy ${fmtRatio(c.vsProxy)}   gateway/direct ${fmtRatio(c.vsDirect)}   ` +
      `p99 added at saturation vs direct ${signed(c.p99AddedVsDirect)} (vs proxy ${signed(c.p99AddedVsProxy)})`,
    `  CPU per request, gateway/proxy: ${c.cpuVsProxy === undefined ? 'n/a' : fmtRatio(c.cpuVsProxy)} (cpu us/req counts the target process only)`
  ].join('\n')
}

/** The fixed-rate latencies of the three targets (direct first, gateway last). */
export function rateTable(measurements: RateMeasurement[]): string {
  const widths = [16, 10, 9, 9, 9, 10]
  const lines = [row(['target', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'failures'], widths)]
  for (const m of measurements) {
    lines.push(row([m.target, fmtRps(m.rate), fmtMs(m.p50), fmtMs(m.p99), fmtMs(m.max), String(m.failures)], widths))
  }
  return lines.map((l) => `  ${l}`).join('\n')
}

export interface RateComparison {
  rate: number
  p99AddedVsDirect: number
  p99AddedVsProxy: number
  gatewayFailures: number
}

export function compareAtRate(direct: RateMeasurement, proxy: RateMeasurement, gateway: RateMeasurement): RateComparison {
  return {
    rate: gateway.rate,
    p99AddedVsDirect: gateway.p99 - direct.p99,
    p99AddedVsProxy: gateway.p99 - proxy.p99,
    gatewayFailures: gateway.failures
  }
}

export function rateComparisonLine(r: RateComparison): string {
  return `  p99 added at ${fmtRps(r.rate)} req/s vs direct ${signed(r.p99AddedVsDirect)} (vs proxy ${signed(r.p99AddedVsProxy)})`
}

/** DESIGN.md's target and issue 2's (older, superseded but still reported) for one scenario. */
export function scenarioGoals(scenario: string, gateway: Measurement, c: Comparison, r: RateComparison, command?: string): Goal[] {
  const failures = gateway.errors + gateway.non2xx
  const goals: Goal[] = [
    {
      ok: c.vsProxy >= 0.9 && failures === 0,
      text: `${scenario}: gateway >= 0.9x minimal proxy with zero errors (DESIGN.md): ${fmtRatio(c.vsProxy)}, ${failures} errors/non-2xx`
    },
    {
      ok: c.vsDirect >= 0.7,
      text: `${scenario}: gateway >= 0.7x direct (issue 2, superseded by DESIGN.md): ${fmtRatio(c.vsDirect)}`
    },
    {
      ok: r.p99AddedVsDirect <= 2 && r.gatewayFailures === 0,
      text: `${scenario}: p99 added vs direct <= 2 ms at a fixed ${fmtRps(r.rate)} req/s (issue 2): ${signed(r.p99AddedVsDirect)}, ${r.gatewayFailures} failures`
    }
  ]
  return command === undefined ? goals : goals.map((g) => withCommand(g, command))
}

/** The goal's line ends with the command that reproduces it. */
export function withCommand(goal: Goal, command: string): Goal {
  return { ok: goal.ok, text: `${goal.text}  [${command}]` }
}

export function goalLines(goals: Goal[]): string {
  return goals.map((g) => `${g.ok ? 'PASS' : 'FAIL'}  ${g.text}`).join('\n')
}

/** A goal-judging bench's closing lines; 1 when a child crashed during the run (its figures are void). */
export function closeGoals(log: (line?: string) => void, goals: Goal[], startedAt: number): number {
  log()
  log(goalLines(goals))
  log()
  log(`${goals.filter((g) => g.ok).length}/${goals.length} goals met in ${Math.round((Date.now() - startedAt) / 1000)} s`)
  if (crashes.length === 0) return 0
  process.stderr.write(`\nA child process crashed during the bench:\n${crashes.join('\n')}\n`)
  return 1
}
