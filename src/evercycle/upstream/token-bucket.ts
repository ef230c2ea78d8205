export interface TokenBucketOptions {
  /** Tokens added per second. */
  rate: number
  /** Capacity: the most that can be spent at once after an idle spell. */
  burst: number
  clock?: () => number
}

/** Floating-point refills (0.1 + 0.2 …) must not leave a caller one femto-token short forever. */
const EPSILON = 1e-9

/**
 * A token bucket refilled lazily from the clock, so it costs nothing while idle. Waits are rounded up to whole
 * milliseconds: a caller who sleeps exactly what take() returned finds the tokens there.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private pausedUntil = 0
  private readonly clock: () => number

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new RangeError('rate must be a finite number > 0')
    if (!(options.burst >= 1) || !Number.isFinite(options.burst)) throw new RangeError('burst must be a finite number >= 1')
    this.clock = options.clock ?? Date.now
    this.tokens = options.burst
    this.last = this.clock()
  }

  /** Tokens available now (fractional). */
  get available(): number {
    this.refill(this.clock())
    return this.tokens
  }

  /** The end of the current upstream-imposed pause (ms epoch), or 0 when none was ever set. */
  get pausedUntilMs(): number {
    return this.pausedUntil
  }

  /**
   * Takes one token and returns 0 when `1 + reserve` are available; otherwise takes nothing and returns the ms
   * until they will be (during a pause: until the pause ends, or later if the bucket is not refilled by then).
   * A reserve the bucket could never hold is clamped to its capacity: a lane that could never be served would
   * wait forever, and a full bucket is headroom enough.
   */
  take(reserve = 0): number {
    const now = this.clock()
    this.refill(now)
    const need = Math.min(1 + Math.max(0, reserve), this.options.burst)
    const paused = Math.max(0, this.pausedUntil - now)
    if (paused === 0 && this.tokens + EPSILON >= need) {
      this.tokens = Math.max(0, this.tokens - 1)
      return 0
    }
    const refillMs = this.tokens + EPSILON >= need ? 0 : ((need - this.tokens) * 1000) / this.options.rate
    return Math.max(1, Math.ceil(Math.max(paused, refillMs)))
  }

  /** Gives back a token taken for a call that never reached the upstream. */
  refund(): void {
    this.refill(this.clock())
    this.tokens = Math.min(this.options.burst, this.tokens + 1)
  }

  /**
   * Stops take() until `epochMs` (an upstream 429's Retry-After). Only ever extends: a shorter pause learnt
   * later must not cut short a longer one the upstream asked for earlier.
   */
  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs)
  }

  private refill(now: number): void {
    // A clock stepping backwards adds nothing, and the refill goes on from the new reading: holding out for the
    // old one would freeze the budget for as long as the step.
    const elapsed = Math.max(0, now - this.last)
    this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.rate) / 1000)
    this.last = now
  }
}
