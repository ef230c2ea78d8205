import autocannon from 'autocannon'
import { performance } from 'node:perf_hooks'
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

interface RunHooks {
  onResponse?: (statusCode: number, ms: number) => void
  onError?: () => void
}

/** One autocannon run, resolved with its result; `hooks` see every response and every failed request. */
export function run(options: autocannon.Options, hooks: RunHooks = {}): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err, result) => (err === null ? resolve(result) : reject(err)))
    const { onResponse, onError } = hooks
    if (onResponse !== undefined) {
      instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => onResponse(statusCode, responseTime))
    }
    if (onError !== undefined) instance.on('reqError', () => onError())
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

/**
 * One continuous run whose first `warmupSeconds` are discarded (JIT, keep-alive pools, token in place), then
 * `seconds` measured on the same connections. Not a separate warm-up run: closing its connections takes the
 * target through its connection-teardown paths, which deoptimizes hot request code, and the measured run would
 * then pay for recompiling it (on a 2-core box, several percent of a gateway's CPU in a 10 s window).
 */
export interface MeasureOptions {
  /**
   * Every request gets its own query (`n=<unique id>`, autocannon's id replacement), so the gateway's coalescing
   * of identical concurrent GETs never merges two of them and the plain proxy path is what gets measured.
   */
  distinct?: boolean
  /** Called when the measured window opens and when it closes (e.g. to read the simulator's call counts). */
  onWindowStart?: () => void
  onWindowEnd?: () => void
}

/** `url` with `n=<unique per request>` added to its query (autocannon replaces `[<id>]` per request). */
export function distinctUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}n=[<id>]`
}

export async function measure(
  target: LoadTarget,
  connections: number,
  seconds: number,
  warmupSeconds: number,
  options: MeasureOptions = {}
): Promise<Measurement> {
  const latencies = new LatencyLog()
  let measuring = warmupSeconds <= 0
  let ok = 0
  let non2xx = 0
  let errors = 0
  let cpu0: number | undefined
  let cpu1: number | undefined
  let started = 0
  let ended = 0
  const cpu = (): number | undefined => (target.pid === undefined ? undefined : processCpuMs(target.pid))
  const begin = (): void => {
    measuring = true
    cpu0 = cpu()
    started = performance.now()
    options.onWindowStart?.()
  }
  const warmup = warmupSeconds > 0 ? setTimeout(begin, warmupSeconds * 1000) : undefined
  if (warmup === undefined) begin()
  // read the CPU when the window closes, before autocannon closes its connections
  const finish = setTimeout(() => {
    cpu1 = cpu()
    ended = performance.now()
    measuring = false
    options.onWindowEnd?.()
  }, (warmupSeconds + seconds) * 1000)
  try {
    await run(
      {
        url: options.distinct === true ? distinctUrl(target.url) : target.url,
        idReplacement: options.distinct === true,
        headers: target.headers,
        connections,
        timeout: 10,
        duration: warmupSeconds + seconds + 1
      },
      {
        onResponse: (statusCode, ms) => {
          if (!measuring) return
          latencies.add(ms)
          if (statusCode >= 200 && statusCode < 300) ok++
          else non2xx++
        },
        onError: () => {
          if (measuring) errors++
        }
      }
    )
  } finally {
    clearTimeout(warmup)
    clearTimeout(finish)
  }
  if (ended === 0) throw new Error(`${target.name}: the load ended before the measured window did`)
  const sorted = latencies.sorted()
  const responses = ok + non2xx
  const windowSeconds = (ended - started) / 1000
  return {
    target: target.name,
    rps: ok / windowSeconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
    non2xx,
    requests: responses,
    seconds: windowSeconds,
    cpuUsPerRequest: cpu0 === undefined || cpu1 === undefined || responses === 0 ? undefined : ((cpu1 - cpu0) * 1000) / responses
  }
}
