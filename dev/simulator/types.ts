/* What tests and the bench read and steer on the simulator. */

export interface SimulatorOptions {
  users?: Record<string, string>
  tokenTtlMs?: number
  latencyMs?: number
  /** Keep at most this many calls in the log (counters are always exact). */
  maxLoggedCalls?: number
}

export interface SimulatorSettings {
  tokenTtlMs: number
  latencyMs: number
  failSignIn: boolean
  /** Refresh tokens are refused (401), as for a revoked one. */
  failRefresh: boolean
  /** `error`: the refresh endpoint answers 500; `invalid`: it answers 200 with an HTML page. */
  refreshMode: 'normal' | 'error' | 'invalid'
  /**
   * API calls: `malformed`: JSON content type with a broken body; `html`: a text/html page; `mislabeled`: the
   * usual JSON answer sent as text/plain; `error`: 500;
   * `stall`: headers and the start of the body, then nothing; `truncated`: the same, then the connection drops.
   */
  bodyMode: 'normal' | 'malformed' | 'html' | 'mislabeled' | 'error' | 'stall' | 'truncated'
}

export interface SimulatorCall {
  method: string
  /** The raw request target's path as received, before any decoding. */
  path: string
  query: string
  status: number
  authenticated: boolean
  /** The Evercycle user whose tokens authenticated the call. */
  user: string | undefined
  requestId: string | undefined
  body: unknown
  at: number
}

export interface SimulatorCounts {
  signIns: number
  failedSignIns: number
  refreshes: number
  failedRefreshes: number
  apiCalls: number
  unauthorized: number
}

export interface Asset {
  id: string
  name: string
  status: string
  [key: string]: unknown
}
