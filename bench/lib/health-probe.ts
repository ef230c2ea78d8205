import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'

export interface ProbeResult {
  /** Latencies in ms, sorted, counted from each probe's due time (a stalled server is charged for the wait). */
  latencies: Float64Array
  failures: number
}

/**
 * A light, open-loop probe of a liveness route: one GET every `intervalMs` (20 per second at 50 ms), each sent
 * when due whether or not the previous one has answered, so a server that stalls shows as the probes queued
 * behind the stall rather than as fewer probes. Stop it with `stop()`.
 */
export class HealthProbe {
  private readonly pool: Pool
  private readonly samples: number[] = []
  private failures = 0
  private timer: NodeJS.Timeout | undefined
  private readonly inflight = new Set<Promise<void>>()
  private started = 0
  private sent = 0

  constructor(
    private readonly url: string,
    private readonly intervalMs = 50
  ) {
    const u = new URL(url)
    this.pool = new Pool(u.origin, { connections: 4, keepAliveTimeout: 30_000 })
  }

  start(): void {
    this.started = performance.now()
    const tick = (): void => {
      // every probe that has fallen due by now goes out (a late timer sends the ones it owes)
      const now = performance.now()
      while (this.started + this.sent * this.intervalMs <= now) {
        const due = this.started + this.sent * this.intervalMs
        this.sent++
        const p = this.one(due)
        this.inflight.add(p)
        void p.finally(() => this.inflight.delete(p))
      }
      this.timer = setTimeout(tick, Math.max(1, this.started + this.sent * this.intervalMs - performance.now()))
    }
    tick()
  }

  async stop(): Promise<ProbeResult> {
    clearTimeout(this.timer)
    await Promise.all([...this.inflight])
    await this.pool.close()
    return { latencies: Float64Array.from(this.samples).sort(), failures: this.failures }
  }

  private async one(due: number): Promise<void> {
    const u = new URL(this.url)
    try {
      const res = await this.pool.request({ method: 'GET', path: u.pathname + u.search })
      await res.body.dump()
      if (res.statusCode !== 200) this.failures++
    } catch {
      this.failures++
      return
    }
    this.samples.push(performance.now() - due)
  }
}
