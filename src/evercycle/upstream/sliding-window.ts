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

  /**
   * 0 and the event recorded when `1 + reserve` fit (the reserve left for others; clamped to the limit); else
   * the milliseconds until they would (nothing recorded).
   */
  take(reserve = 0): number {
    const now = this.clock()
    // the ring holds the last `limit` events oldest first from `next`: once the `reserve`-th after the oldest
    // is a window old, 1 + reserve more fit
    const slot = (this.next + Math.min(Math.max(0, reserve), this.limit - 1)) % this.limit
    const wait = (this.times[slot] as number) + this.windowMs - now
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
