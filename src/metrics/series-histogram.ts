import { Histogram, type LabelValues, type MetricObjectWithValues, type MetricType, type MetricValueWithName, type Registry } from 'prom-client'

function noCollect(): void {}
/** prom-client's typings declare the type as a numeric enum its JavaScript never exports; at run time it is this string. */
const HISTOGRAM = 'histogram' as unknown as MetricType

/** One labelled series of a `SeriesHistogram`: what a hot path keeps and calls. */
export class HistogramSeries {
  /** Observations per bucket, not cumulative; the last slot is +Inf. */
  private readonly counts: Float64Array
  private sum = 0
  private count = 0

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[]
  ) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    this.counts[i] = (this.counts[i] as number) + 1
    this.sum += value
    this.count++
  }

  reset(): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }

  /** prom-client's export rows for this series: cumulative buckets, +Inf, sum and count. */
  rows(name: string): Array<MetricValueWithName<string>> {
    const rows: Array<MetricValueWithName<string>> = []
    let cumulative = 0
    this.bounds.forEach((le, i) => {
      cumulative += this.counts[i] as number
      rows.push({ metricName: `${name}_bucket`, labels: { le, ...this.labels }, value: cumulative })
    })
    rows.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...this.labels }, value: this.count })
    rows.push({ metricName: `${name}_sum`, labels: { ...this.labels }, value: this.sum })
    rows.push({ metricName: `${name}_count`, labels: { ...this.labels }, value: this.count })
    return rows
  }
}

/**
 * A prom-client histogram whose labelled series are objects a caller takes once and observes directly.
 * prom-client's own `labels(...).observe(v)` rebuilds, validates and hashes the label set on every call
 * (its series handle is only a closure over the labels): on a request path that is two histograms per
 * request. The exposition (name, help, buckets, label names, registry) is prom-client's, unchanged. It overrides
 * prom-client internals (`getForPromString`, `reset` called by the base constructor): package.json pins
 * prom-client with `~` for this.
 */
export class SeriesHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[]
  // declared, not initialised: the base constructor calls reset(), which creates it, before fields would be
  declare private series: Map<string, HistogramSeries>
  private readonly names: readonly T[]
  private readonly metricName: string
  private readonly helpText: string

  constructor(config: { name: string; help: string; labelNames: readonly T[]; buckets: number[]; registers: Registry[] }) {
    super({ ...config, labelNames: [...config.labelNames] })
    this.bounds = [...config.buckets].sort((a, b) => a - b)
    this.names = config.labelNames
    this.metricName = config.name
    this.helpText = config.help
  }

  /** The series for these label values, created on first use; keep it rather than asking again. */
  seriesFor(labels: Readonly<Record<T, string>>): HistogramSeries {
    const key = this.names.map((n) => labels[n]).join('\u0000')
    let series = this.series.get(key)
    if (series === undefined) {
      const own: Record<string, string> = {}
      for (const n of this.names) own[n] = labels[n]
      series = new HistogramSeries(own, this.bounds)
      this.series.set(key, series)
    }
    return series
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    return this.getForPromString()
  }

  /** What prom-client's registry renders from (it prefers this over `get`). */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const values: Array<MetricValueWithName<T>> = []
    for (const series of this.series.values()) {
      for (const row of series.rows(this.metricName)) values.push({ ...row, labels: row.labels as LabelValues<T> })
    }
    return { name: this.metricName, help: this.helpText, type: HISTOGRAM, aggregator: 'sum', collect: noCollect, values }
  }

  /** Zeroes every series (callers keep the series they hold); the base constructor's call creates the map. */
  override reset(): void {
    if (!(this.series instanceof Map)) this.series = new Map()
    for (const series of this.series.values()) series.reset()
  }
}
