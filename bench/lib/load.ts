import autocannon from 'autocannon'
import { processCpuMs } from './cpu.js'

export interface LoadTarget {
  name: string
  url: string
  headers: Record<string, string>
  /** The process serving it, whose CPU time per request is reported. */
  pid?: number
}

export interface Measurement {
  target: string
  /** 2xx responses per second over the measured run. */
  rps: number
  p50: number
  p99: number
  /** Socket errors, timeouts included. */
  errors: number
  non2xx: number
  requests: number
  seconds: number
  /** CPU microseconds the target process spent per response; undefined without /proc. */
  cpuUsPerRequest: number | undefined
}

function run(options: autocannon.Options, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err, result) => (err === null ? resolve(result) : reject(err)))
    if (onLatency !== undefined) {
      instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => onLatency(responseTime))
    }
  })
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)] ?? Number.NaN
}

/**
 * autocannon's own histogram keeps whole milliseconds, too coarse for "p99 added ≤ 2 ms" on a sub-millisecond
 * upstream, so latencies are collected from its per-response event at full precision.
 */
class LatencyLog {
  private values = new Float64Array(1 << 16)
  private size = 0

  add(ms: number): void {
    if (this.size === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2)
      bigger.set(this.values)
      this.values = bigger
    }
    this.values[this.size++] = ms
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.size).sort()
  }
}

/** A warm-up run (JIT, keep-alive pools, token in place), discarded, then the measured run. */
export async function measure(target: LoadTarget, connections: number, seconds: number, warmupSeconds: number): Promise<Measurement> {
  const options: autocannon.Options = { url: target.url, headers: target.headers, connections, timeout: 10 }
  if (warmupSeconds > 0) await run({ ...options, duration: warmupSeconds })
  const latencies = new LatencyLog()
  const cpu0 = target.pid === undefined ? undefined : processCpuMs(target.pid)
  const result = await run({ ...options, duration: seconds }, (ms) => latencies.add(ms))
  const cpu1 = target.pid === undefined ? undefined : processCpuMs(target.pid)
  const sorted = latencies.sorted()
  const responses = result.requests.total
  return {
    target: target.name,
    rps: result['2xx'] / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors,
    non2xx: result.non2xx,
    requests: responses,
    seconds: result.duration,
    cpuUsPerRequest: cpu0 === undefined || cpu1 === undefined || responses === 0 ? undefined : ((cpu1 - cpu0) * 1000) / responses
  }
}
