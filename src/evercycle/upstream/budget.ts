import type { Admission, CircuitBreaker } from './circuit-breaker.js'
import { upstreamWait } from './budget-errors.js'

/** Interactive calls (the gateway's routes, the CLI through them) go before flow calls. */
export type Lane = 'interactive' | 'flow'

/** Where rate tokens come from: this process's bucket, or one row all replicas share. */
export interface RateSource {
  /** 0 when a token was taken; else the milliseconds until `1 + reserve` tokens will be there (none taken). */
  take(reserve: number): Promise<number>
  /** Gives back a token taken for a call that never went (it timed out waiting for a slot). */
  refund(): Promise<void>
}

export interface BudgetOptions {
  /** Calls in flight at once on this replica. */
  maxConcurrency: number
  /** How long an interactive call may wait for the budget before it is answered 503 `upstream_busy`. */
  queueTimeoutMs: number
  /** The rate, when one is set (`UPSTREAM_RATE_LIMIT`); unset, calls are limited by concurrency only. */
  rate?: RateSource | undefined
  /** Tokens a flow call must leave in the bucket, for interactive calls. */
  flowReserve: number
  breaker: CircuitBreaker
  /** Told when this replica learns of an upstream 429 (to pause every replica). */
  onPause?: ((untilMs: number) => void) | undefined
  clock?: () => number
}

/** How long a flow call that found no free slot is deferred before it asks again. */
export const FLOW_SLOT_RETRY_MS = 250

/** A call the budget let through; give it back with `release`. */
export interface Permit {
  readonly lane: Lane
  readonly probe: boolean
}

/** How a call ended, for the breaker and the 429 pause. */
export type CallOutcome = { kind: 'ok' } | { kind: 'failure' } | { kind: 'rate_limited'; retryAfterMs: number } | { kind: 'aborted' }

interface Waiter {
  lane: Lane
  grant: () => void
}

/**
 * The one upstream budget every Evercycle call passes (gateway routes, flow nodes, the CLI through the
 * gateway): the breaker first (open: refused at once), then an upstream 429's pause (refused at once until it
 * ends), then the rate, then a slot among `maxConcurrency`. Interactive calls wait in line, up to
 * `queueTimeoutMs`, and are served before flow calls; a flow call never waits here: it is refused with the
 * time to wait, and the engine defers the node (holding no worker) for that long.
 */
export class UpstreamBudget {
  private inFlight = 0
  private pausedUntil = 0
  private readonly queues: Record<Lane, Waiter[]> = { interactive: [], flow: [] }
  private readonly clock: () => number
  /** Counters for the metrics: calls refused per reason, and the total time callers waited, by lane. */
  readonly stats = {
    refused: { busy: 0, rate_limited: 0, circuit_open: 0 },
    waitedMs: { interactive: 0, flow: 0 },
    rateLimitedByUpstream: 0
  }

  constructor(private readonly options: BudgetOptions) {
    this.clock = options.clock ?? Date.now
  }

  /** Callers waiting for a slot, per lane. */
  queued(lane: Lane): number {
    return this.queues[lane].length
  }

  get active(): number {
    return this.inFlight
  }

  /** The end of the current 429 pause (ms since the epoch), 0 when none. */
  get pausedUntilMs(): number {
    return this.pausedUntil > this.clock() ? this.pausedUntil : 0
  }

  /** Pauses every call until `untilMs` (an upstream 429 here or, through the cluster, on another replica). */
  pause(untilMs: number): void {
    if (untilMs > this.pausedUntil) this.pausedUntil = untilMs
  }

  /** Lets a call through, or throws `upstreamWait` with how long to wait (503 busy or open, 429 paused). */
  async acquire(lane: Lane, signal?: { readonly aborted: boolean }): Promise<Permit> {
    const started = this.clock()
    const admission: Admission = this.options.breaker.admit()
    if (admission.kind === 'open') throw this.refuse('circuit_open', admission.retryAfterMs)
    const probe = admission.probe
    try {
      this.checkPause()
      await this.takeRate(lane, started)
      await this.takeSlot(lane, started, signal)
    } catch (err) {
      this.options.breaker.release(probe)
      throw err
    }
    // a 429 may have paused everything while this call waited for its slot
    try {
      this.checkPause()
    } catch (err) {
      this.inFlight--
      this.next()
      this.options.breaker.release(probe)
      throw err
    }
    this.stats.waitedMs[lane] += this.clock() - started
    return { lane, probe }
  }

  /** The call is over: its slot goes to the next in line, its outcome to the breaker and the pause. */
  release(permit: Permit, outcome: CallOutcome): void {
    this.inFlight--
    this.next()
    const { breaker } = this.options
    if (outcome.kind === 'ok') breaker.success(permit.probe)
    else if (outcome.kind === 'failure') breaker.failure(permit.probe)
    else if (outcome.kind === 'aborted') breaker.release(permit.probe)
    else {
      // Evercycle answered, so it is up: a 429 is no failure for the breaker, but it pauses every caller
      breaker.success(permit.probe)
      this.stats.rateLimitedByUpstream++
      const until = this.clock() + outcome.retryAfterMs
      this.pause(until)
      this.options.onPause?.(until)
    }
  }

  private refuse(reason: 'busy' | 'rate_limited' | 'circuit_open', waitMs: number): Error {
    this.stats.refused[reason]++
    return upstreamWait(reason, waitMs)
  }

  private checkPause(): void {
    const left = this.pausedUntil - this.clock()
    if (left > 0) throw this.refuse('rate_limited', left)
  }

  private async takeRate(lane: Lane, started: number): Promise<void> {
    const rate = this.options.rate
    if (rate === undefined) return
    const reserve = lane === 'flow' ? this.options.flowReserve : 0
    for (;;) {
      const waitMs = await rate.take(reserve)
      if (waitMs === 0) return
      // the shared rate may have found a 429's pause in its row (a replica that missed the message): refused at once
      this.checkPause()
      const left = this.options.queueTimeoutMs - (this.clock() - started)
      if (lane === 'flow' || waitMs > left) throw this.refuse('busy', waitMs)
      await new Promise((resolve) => setTimeout(resolve, waitMs))
      this.checkPause()
    }
  }

  private async takeSlot(lane: Lane, started: number, signal: { readonly aborted: boolean } | undefined): Promise<void> {
    // interactive calls in line go first; a flow call takes a slot only when no one waits for one
    if (this.inFlight < this.options.maxConcurrency && this.queues.interactive.length === 0 && (lane === 'interactive' || this.queues.flow.length === 0)) {
      this.inFlight++
      return
    }
    if (lane === 'flow') {
      await this.options.rate?.refund()
      throw this.refuse('busy', FLOW_SLOT_RETRY_MS)
    }
    const left = this.options.queueTimeoutMs - (this.clock() - started)
    const granted = await new Promise<boolean>((resolve) => {
      const waiter: Waiter = { lane, grant: () => resolve(true) }
      const timer = setTimeout(() => {
        const queue = this.queues[lane]
        const at = queue.indexOf(waiter)
        if (at !== -1) queue.splice(at, 1)
        resolve(false)
      }, Math.max(0, left))
      waiter.grant = () => {
        clearTimeout(timer)
        resolve(true)
      }
      this.queues[lane].push(waiter)
    })
    if (!granted) {
      await this.options.rate?.refund()
      throw this.refuse('busy', Math.max(1000, this.options.queueTimeoutMs))
    }
    // the slot was handed over with inFlight already counted (next())
    if (signal?.aborted === true) {
      this.inFlight--
      this.next()
      throw this.refuse('busy', 0)
    }
  }

  /** Hands a freed slot to the first interactive waiter, else the first flow waiter. */
  private next(): void {
    while (this.inFlight < this.options.maxConcurrency) {
      const waiter = this.queues.interactive.shift() ?? this.queues.flow.shift()
      if (waiter === undefined) return
      this.inFlight++
      waiter.grant()
    }
  }
}
