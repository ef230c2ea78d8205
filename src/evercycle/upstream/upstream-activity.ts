import { RingBuffer } from '../../util/ring-buffer.js'
import type { DomainError } from '../../errors.js'
import type { UpstreamObserver, UpstreamRequest } from '../client.js'
import type { HttpMethod } from '../operation.js'

/** How many failed calls a replica keeps for its status page. */
export const RECENT_FAILURES = 50

/**
 * A failed call as it may be shown to any signed-in user: the operation and method, never the rendered path
 * (it holds values), the query, a body or a token.
 */
export interface UpstreamFailure {
  operation: string
  method: HttpMethod
  /** The HTTP status Evercycle answered; null when no answer came. */
  status: number | null
  /** Why no answer came (upstream_unavailable, upstream_timeout); null for an answer. */
  code: string | null
  /** A coarse transport reason (connection_refused, dns_failure...), when there is one. */
  reason: string | null
  message: string
  requestId: string | null
}

export interface RecordedFailure extends UpstreamFailure {
  /** Epoch milliseconds. */
  at: number
}

export interface ActivitySnapshot {
  /** The last call Evercycle answered below 400, epoch ms; undefined when none since boot. */
  lastSuccessAt: number | undefined
  lastFailure: RecordedFailure | undefined
  /** Failed calls since boot, however many the buffer still holds. */
  failures: number
  /** Newest first, at most the buffer's capacity. */
  recent: RecordedFailure[]
}

/** The body of an error answer is never read here: the status alone is what may be shown. */
export function answeredFailure(req: UpstreamRequest, status: number): UpstreamFailure {
  return { operation: req.operation ?? 'unknown', method: req.method, status, code: null, reason: null, message: `Evercycle answered ${status}`, requestId: req.requestId ?? null }
}

/** A transport failure's domain error carries a documented message and reason, never an address or errno. */
export function transportFailure(req: UpstreamRequest, err: DomainError): UpstreamFailure {
  const reason = (err.details as { reason?: unknown } | undefined)?.reason
  return {
    operation: req.operation ?? 'unknown',
    method: req.method,
    status: null,
    code: err.code,
    reason: typeof reason === 'string' ? reason : null,
    message: err.message,
    requestId: req.requestId ?? null
  }
}

/**
 * Evercycle's health as this replica last saw it: when it last answered well, and its recent failures in a
 * bounded ring, so a long outage costs no more memory than a short one. Fed by the client's observer.
 */
export class UpstreamActivity {
  private lastSuccessAt: number | undefined
  private failures = 0
  private readonly recent: RingBuffer<RecordedFailure>

  constructor(
    capacity = RECENT_FAILURES,
    private readonly clock: () => number = Date.now
  ) {
    this.recent = new RingBuffer(capacity)
  }

  /** Every exchange's outcome, as the client tells its observer: an HTTP status, or an error code. */
  exchanged(outcome: string): void {
    const status = Number(outcome)
    if (status >= 100 && status < 400) this.lastSuccessAt = this.clock()
  }

  failed(failure: UpstreamFailure): void {
    this.failures++
    this.recent.push({ ...failure, at: this.clock() })
  }

  snapshot(): ActivitySnapshot {
    return { lastSuccessAt: this.lastSuccessAt, lastFailure: this.recent.newest(), failures: this.failures, recent: this.recent.newestFirst() }
  }
}

/** The client takes one observer: this one tells `first` (the metrics), then the activity. */
export function observeActivity(first: UpstreamObserver | undefined, activity: UpstreamActivity): UpstreamObserver {
  return {
    exchange: (operation, outcome, seconds) => {
      first?.exchange(operation, outcome, seconds)
      activity.exchanged(outcome)
    },
    authentication: (kind, ok) => first?.authentication(kind, ok),
    failed: (failure) => {
      first?.failed?.(failure)
      activity.failed(failure)
    }
  }
}
