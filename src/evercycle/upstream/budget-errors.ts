import { domainError, isDomainError, type DomainError } from '../../errors.js'
import { retryAfterSeconds } from './retry-after.js'

/** Why a call to Evercycle must wait: the budget's answers that are not Evercycle's own. */
export type UpstreamWaitReason = 'busy' | 'rate_limited' | 'circuit_open'

const CODES = { busy: 'upstream_busy', rate_limited: 'upstream_rate_limited', circuit_open: 'upstream_circuit_open' } as const
const MESSAGES: Record<UpstreamWaitReason, string> = {
  busy: 'Evercycle is busy: the upstream budget has no room for this call now; retry later',
  rate_limited: 'Evercycle is rate limiting this service; retry after the pause it asked for',
  circuit_open: 'Evercycle is failing: calls are suspended until it recovers; retry later'
}

/** The gateway's answer when a call may not go to Evercycle now: 503 or 429 with Retry-After, wait in details. */
export function upstreamWait(reason: UpstreamWaitReason, waitMs: number): DomainError {
  return domainError(CODES[reason], MESSAGES[reason], {
    headers: { 'retry-after': retryAfterSeconds(waitMs) },
    details: { retry_after_ms: Math.ceil(waitMs) }
  })
}

/** The wait such an error asks for, or undefined for any other error. */
export function waitOf(err: unknown): { reason: UpstreamWaitReason; waitMs: number } | undefined {
  if (!isDomainError(err)) return undefined
  const reason = (Object.keys(CODES) as UpstreamWaitReason[]).find((r) => CODES[r] === err.code)
  if (reason === undefined) return undefined
  const waitMs = (err.details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms
  return { reason, waitMs: typeof waitMs === 'number' && waitMs > 0 ? waitMs : 1000 }
}
