/**
 * A token bucket per webhook on this replica: `rate` requests a second, bursts of one second's worth. Only
 * hooks that exist get a bucket, so the map is bounded by the hooks defined.
 */
export class HookRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly rate: number,
    private readonly clock: () => number = Date.now
  ) {}

  /** Takes a token: 0 when the request may go, else the seconds until one is free (for Retry-After). */
  take(hookId: string): number {
    const now = this.clock()
    const bucket = this.buckets.get(hookId) ?? { tokens: this.rate, at: now }
    bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.at) / 1000) * this.rate)
    bucket.at = now
    this.buckets.set(hookId, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate))
  }

  /** A hook that no longer exists (rotated, deleted) keeps no bucket. */
  forget(hookId: string): void {
    this.buckets.delete(hookId)
  }
}
