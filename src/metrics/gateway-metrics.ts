import { collectDefaultMetrics, Counter, Registry } from 'prom-client'
import type { UpstreamObserver } from '../evercycle/client.js'
import { SeriesHistogram, type HistogramSeries } from './series-histogram.js'

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** The label of requests no route matched: a raw URL would let any client mint new time series. */
export const UNMATCHED_ROUTE = 'unmatched'

/** Records one served request of a given route pattern. */
export type RequestRecorder = (method: string, statusCode: number, elapsedMs: number) => void

/**
 * A histogram's labelled series by two of its label values: two Map gets per observation, no label object,
 * no hashing. The key sets are bounded (HTTP methods x status codes, operations x outcomes), so the caches are
 * too.
 */
class SeriesCache<A extends string | number, B extends string | number> {
  private readonly series = new Map<A, Map<B, HistogramSeries>>()

  constructor(private readonly make: (a: A, b: B) => HistogramSeries) {}

  get(a: A, b: B): HistogramSeries {
    let byB = this.series.get(a)
    if (byB === undefined) {
      byB = new Map()
      this.series.set(a, byB)
    }
    let child = byB.get(b)
    if (child === undefined) {
      child = this.make(a, b)
      byB.set(b, child)
    }
    return child
  }
}

/**
 * This process's Prometheus metrics, in a registry of its own (never prom-client's global one), so several
 * apps in one process (tests) keep separate counts. Sources owned by other parts register their own
 * collectors on `registry`.
 */
export class GatewayMetrics {
  readonly registry = new Registry()
  private readonly requests: SeriesHistogram<'method' | 'route' | 'status_code'>
  private readonly upstream: SeriesHistogram<'operation' | 'status'>
  private readonly refreshes: Counter<'result'>
  private readonly signIns: Counter<'result'>

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    const registers = [this.registry]
    this.requests = new SeriesHistogram({
      name: 'http_request_duration_seconds',
      help: 'Requests served, by route pattern and status, and how long they took (until the response was sent)',
      labelNames: ['method', 'route', 'status_code'],
      buckets: SECONDS,
      registers
    })
    this.upstream = new SeriesHistogram({
      name: 'evercycle_upstream_request_duration_seconds',
      help: 'Calls to Evercycle by operation and outcome (HTTP status or error code), timed to the response headers',
      labelNames: ['operation', 'status'],
      buckets: SECONDS,
      registers
    })
    this.refreshes = new Counter({
      name: 'evercycle_token_refreshes_total',
      help: 'Evercycle token refreshes this process sent, by result (ok: new tokens; failed: refused or no answer)',
      labelNames: ['result'],
      registers
    })
    this.signIns = new Counter({
      name: 'evercycle_token_signins_total',
      help: 'Evercycle sign-ins this process sent (service identity and users), by result',
      labelNames: ['result'],
      registers
    })
    // present from the first scrape, so a rate() over them never starts from a missing series
    for (const result of ['ok', 'failed']) {
      this.refreshes.inc({ result }, 0)
      this.signIns.inc({ result }, 0)
    }
  }

  get contentType(): string {
    return this.registry.contentType
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  /**
   * The recorder for one route pattern (undefined: no route matched), to be taken once per route and kept:
   * it caches the series it writes to.
   */
  requestRecorder(route: string | undefined): RequestRecorder {
    const label = route ?? UNMATCHED_ROUTE
    const series = new SeriesCache<string, number>((method, statusCode) =>
      this.requests.seriesFor({ method, route: label, status_code: String(statusCode) })
    )
    return (method, statusCode, elapsedMs) => series.get(method, statusCode).observe(elapsedMs / 1000)
  }

  private readonly upstreamSeries = new SeriesCache<string, string>((operation, status) => this.upstream.seriesFor({ operation, status }))

  /** For the Evercycle client: every upstream exchange and every sign-in/refresh outcome. */
  readonly upstreamObserver: UpstreamObserver = {
    exchange: (operation, outcome, seconds) => this.upstreamSeries.get(operation, outcome).observe(seconds),
    authentication: (kind, ok) => (kind === 'refresh' ? this.refreshes : this.signIns).inc({ result: ok ? 'ok' : 'failed' })
  }
}
