export type BreakerState = 'closed' | 'open' | 'half_open'

export type Admission = { kind: 'call'; probe: boolean } | { kind: 'open'; retryAfterMs: number }

/**
 * While the one probe is out, everyone else is told to come back in a second: Retry-After is sent in whole
 * seconds anyway, and the probe's answer (or its timeout) decides the next state soon after.
 */
export const HALF_OPEN_RETRY_MS = 1000

/** What a status page shows: read-only, computed on demand. */
export interface BreakerSnapshot {
  state: BreakerState
  /** When it last left `closed` (epoch ms): the outage's start, which failed probes do not move. */
  openedAt: number | undefined
  /** While open: when the next call will be let through as the probe (epoch ms). */
  probeAt: number | undefined
  /** While closed: the run of consecutive failures within the window, toward `failures`. */
  consecutiveFailures: number
}

export interface CircuitBreakerOptions {
  /** Consecutive failures, all within `windowMs` of the latest, that open the breaker. */
  failures: number
  windowMs: number
  /** How long it stays open before one probe may test the upstream. */
  cooldownMs: number
  clock?: () => number
  /** Called once per real transition, after the state has changed (so `state` already reads `to`). */
  onChange?: (from: BreakerState, to: BreakerState) => void
}

/**
 * The verdicts (success, failure) are the caller's to give: what counts as a failure (5xx, timeout, unreachable)
 * is a matter of the transport, not of the breaker. Half-open always means "a probe is in flight": there is no
 * half-open state without one, which is what makes "exactly one probe" hold.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  /** Times of the current run of consecutive failures, at most `failures` of them. */
  private run: number[] = []
  private openUntil = 0
  private openedAt = 0
  private readonly clock: () => number

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failures) || options.failures < 1) throw new RangeError('failures must be an integer >= 1')
    if (!(options.windowMs > 0)) throw new RangeError('windowMs must be > 0')
    if (!(options.cooldownMs >= 0)) throw new RangeError('cooldownMs must be >= 0')
    this.clock = options.clock ?? Date.now
  }

  get state(): BreakerState {
    return this.current
  }

  /** How long a caller should wait before trying again; 0 when a call would be let through now. */
  retryAfterMs(): number {
    if (this.current === 'half_open') return HALF_OPEN_RETRY_MS
    if (this.current === 'open') return Math.max(0, this.openUntil - this.clock())
    return 0
  }

  snapshot(): BreakerSnapshot {
    const now = this.clock()
    const closed = this.current === 'closed'
    return {
      state: this.current,
      openedAt: closed ? undefined : this.openedAt,
      probeAt: this.current === 'open' ? this.openUntil : undefined,
      consecutiveFailures: closed ? this.run.filter((at) => now - at <= this.options.windowMs).length : 0
    }
  }

  admit(): Admission {
    if (this.current === 'closed') return { kind: 'call', probe: false }
    if (this.current === 'half_open') return { kind: 'open', retryAfterMs: HALF_OPEN_RETRY_MS }
    const left = this.openUntil - this.clock()
    if (left > 0) return { kind: 'open', retryAfterMs: left }
    this.move('half_open')
    return { kind: 'call', probe: true }
  }

  success(probe: boolean): void {
    if (probe) {
      if (this.current === 'half_open') this.move('closed')
      return
    }
    // A call admitted before the breaker opened may answer late: its success does not skip the cooldown.
    if (this.current === 'closed') this.run = []
  }

  failure(probe: boolean): void {
    const now = this.clock()
    if (probe) {
      if (this.current === 'half_open') this.open(now)
      return
    }
    // Stragglers failing while open or probing would only extend an outage the probe is about to settle.
    if (this.current !== 'closed') return
    this.run.push(now)
    this.run = this.run.filter((at) => now - at <= this.options.windowMs).slice(-this.options.failures)
    if (this.run.length >= this.options.failures) this.open(now)
  }

  /** A call that ended without a verdict (its client went away). Only a probe holds anything to give back. */
  release(probe: boolean): void {
    if (!probe || this.current !== 'half_open') return
    // The cooldown has already elapsed: the next admit() probes at once.
    this.openUntil = this.clock()
    this.move('open')
  }

  private open(now: number): void {
    if (this.current === 'closed') this.openedAt = now
    this.openUntil = now + this.options.cooldownMs
    this.move('open')
  }

  private move(to: BreakerState): void {
    const from = this.current
    if (from === to) return
    this.current = to
    this.run = []
    this.options.onChange?.(from, to)
  }
}
