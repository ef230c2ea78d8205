// The gateway's replies the status page reads (GET /api/v1/gateway/status, /api/health, /api/ready, /api/list),
// kept beside the page: only it reads them. See /docs for the schemas' descriptions.

type Time = string
type MaybeTime = string | null

export interface GatewayStatus {
  checked_at: Time
  token: {
    signed_in: boolean
    expires_at: MaybeTime
    last_refresh_at: MaybeTime
    next_refresh_at: MaybeTime
    renewing: boolean
    sign_in_blocked_until: MaybeTime
    refreshes: number
    sign_ins: number
    renewal_failures: number
  }
  upstream: {
    base_url: string
    timeout_ms: number
    last_success_at: MaybeTime
    last_failure_at: MaybeTime
    failures: number
    breaker: {
      state: 'closed' | 'open' | 'half_open'
      opened_at: MaybeTime
      next_probe_at: MaybeTime
      consecutive_failures: number
      failure_threshold: number
      window_ms: number
      cooldown_ms: number
    }
  }
  budget: {
    rate: { per_second: number; burst: number; flow_reserve: number; shared: boolean } | null
    max_concurrency: number
    queue_timeout_ms: number
    in_flight: number
    queued: { interactive: number; flow: number }
    paused_until: MaybeTime
    refused: { busy: number; rate_limited: number; circuit_open: number }
    rate_limited_by_upstream: number
    waited_ms: { interactive: number; flow: number }
  }
  recent_errors: UpstreamError[]
}

export interface UpstreamError {
  at: Time
  operation: string
  method: string
  path: string | null
  status: number | null
  code: string | null
  reason: string | null
  message: string
  request_id: string | null
}

/** /api/health and /api/ready; ready answers 503 with the same shape when the gateway cannot serve. */
export interface Probe {
  status: string
  message: string
  expires_at?: string
}

export interface GatewayOperation {
  name: string
  method: string
  path: string
  description: string
  parameters: Array<{ name: string; in: string; required: boolean; description: string }>
}
