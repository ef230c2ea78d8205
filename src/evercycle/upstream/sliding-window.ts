/**
 * At most `limit` events in any `windowMs` (a sliding log of the last `limit` event times, in a ring). A token
 * bucket alone lets a burst and the refill of the same second through together after an idle spell (twice the
 * rate in one second); this bounds every second-long interval, whatever came before.
 */
export class SlidingWindow {
  private readonly times: Float64Array
  private next = 0

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: () => number = Date.now
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be an integer >= 1')
    this.times = new Float64Array(limit).fill(Number.NEGATIVE_INFINITY)
  }

  /** 0 and the event recorded when it fits; else the milliseconds until it would (nothing recorded). */
  take(): number {
    const now = this.clock()
    // the oldest of the last `limit` events: once it is a window old, one more fits
    const oldest = this.times[this.next] as number
    const wait = oldest + this.windowMs - now
    if (wait > 0) return Math.ceil(wait)
    this.times[this.next] = now
    this.next = (this.next + 1) % this.limit
    return 0
  }

  /** Forgets the latest event (its call never went). */
  untake(): void {
    this.next = (this.next - 1 + this.limit) % this.limit
    this.times[this.next] = Number.NEGATIVE_INFINITY
  }
}
