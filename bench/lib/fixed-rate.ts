import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import type { LoadTarget } from './load.js'
import { percentile } from './load.js'

export interface RateMeasurement {
  target: string
  /** Offered load, requests per second. */
  rate: number
  p50: number
  p99: number
  max: number
  /** Responses in the measured window. */
  requests: number
  /** Non-2xx answers plus failed requests in the measured window. */
  failures: number
  /** The failures by HTTP status ('error' for a request that got no answer). */
  failuresBy: Record<string, number>
}

/** How often the scheduler wakes up to send what has fallen due (Node timers do not go much finer). */
const TICK_MS = 1

/**
 * Latency at a fixed offered load (open loop, as wrk2 measures it). Autocannon's closed loop keeps every
 * connection busy, so its latency at saturation is connections ÷ throughput and only restates the throughput
 * ratio; what a target adds to one call shows when it is not saturated. Request i is due at
 * start + i / rate; its latency is counted from that due time, not from when it was actually sent, so a target
 * that stalls is charged for the requests queued behind the stall (no coordinated omission). The first
 * `warmupSeconds` are discarded.
 */
export async function measureAtRate(
  target: LoadTarget,
  rate: number,
  connections: number,
  seconds: number,
  warmupSeconds: number,
  /** Request i asks for `n=i` (added to the query): no two are identical, so none are coalesced. */
  distinct = false
): Promise<RateMeasurement> {
  const url = new URL(target.url)
  const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 })
  const path = url.pathname + url.search
  const total = Math.round(rate * (warmupSeconds + seconds))
  const firstMeasured = Math.round(rate * warmupSeconds)
  const latencies = new Float64Array(total - firstMeasured)
  let recorded = 0
  let failures = 0
  const failuresBy: Record<string, number> = {}
  let sent = 0
  let settled = 0
  const start = performance.now()
  const intervalMs = 1000 / rate

  const one = async (i: number): Promise<void> => {
    const due = start + i * intervalMs
    let ok = false
    let kind = 'error'
    try {
      const res = await pool.request({ method: 'GET', path: distinct ? `${path}${url.search === '' ? '?' : '&'}n=${i}` : path, headers: target.headers })
      await res.body.dump()
      ok = res.statusCode >= 200 && res.statusCode < 300
      kind = String(res.statusCode)
    } catch {
      ok = false
    }
    if (i >= firstMeasured) {
      latencies[recorded++] = performance.now() - due
      if (!ok) {
        failures++
        failuresBy[kind] = (failuresBy[kind] ?? 0) + 1
      }
    }
  }

  await new Promise<void>((resolve) => {
    const done = (): void => {
      settled++
      if (settled === total) resolve()
    }
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1)
      while (sent < due) void one(sent++).finally(done)
      if (sent === total) clearInterval(timer)
    }, TICK_MS)
  })
  await pool.close()
  const sorted = latencies.slice(0, recorded).sort()
  return {
    target: target.name,
    rate,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    requests: recorded,
    failures,
    failuresBy
  }
}
