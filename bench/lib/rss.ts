import { readFileSync } from 'node:fs'

/** Resident set size of another process in bytes, from /proc (Linux); undefined where there is no /proc. */
export function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

/** Samples a process's RSS on a timer and keeps the peak; sync reads, so one sample is cheap and exact. */
export class RssSampler {
  peak = 0
  samples = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50
  ) {}

  start(): void {
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
  }

  stop(): void {
    this.sample()
    clearInterval(this.timer)
  }

  private sample(): void {
    const rss = rssOf(this.pid)
    if (rss === undefined) return
    this.samples++
    if (rss > this.peak) this.peak = rss
  }
}

/**
 * A process's resting RSS: the median of samples taken over `ms` after it has gone idle, so one GC pause or
 * a late allocation doesn't decide the number. Undefined where there is no /proc.
 */
export async function restingRss(pid: number, ms = 1000, intervalMs = 50): Promise<number | undefined> {
  const samples: number[] = []
  const end = Date.now() + ms
  while (Date.now() < end) {
    const rss = rssOf(pid)
    if (rss !== undefined) samples.push(rss)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}
