import { Counter, type Registry } from 'prom-client'

export interface MirroredCounterOptions<L extends string> {
  name: string
  help: string
  registry: Registry
  labelName: L
  /** The current totals by label value; each must only grow for the life of the process. */
  read: () => Record<string, number>
}

/**
 * A Prometheus counter over totals another component keeps (the engine's stats, the token manager's events):
 * each scrape adds what they grew by since the last one, so the series is a true counter (rate() works)
 * without the component knowing about metrics.
 */
export function mirroredCounter<L extends string>(options: MirroredCounterOptions<L>): Counter<L> {
  const seen = new Map<string, number>()
  const { read, labelName } = options
  return new Counter<L>({
    name: options.name,
    help: options.help,
    labelNames: [labelName],
    registers: [options.registry],
    collect() {
      for (const [value, total] of Object.entries(read())) {
        const previous = seen.get(value) ?? 0
        const labels = { [labelName]: value } as Record<L, string>
        this.inc(labels, Math.max(0, total - previous))
        seen.set(value, Math.max(previous, total))
      }
    }
  })
}
