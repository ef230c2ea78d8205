/*
 * What tests and the bench read and steer on the simulator.
 *
 * "API calls" below are every request except sign-in (`POST /v1/auth/signin`), refresh (`POST /v1/auth/refresh`)
 * and the `/__sim/*` control routes.
 *
 * Ways to make "Evercycle" fail, e.g. for a circuit breaker (each of them an upstream failure):
 * - 5xx: `settings.bodyMode = 'error'` (500) or `'unavailable'` (503), for every API call until set back;
 * - a hang until the client times out: `bodyMode = 'hang'` (no answer at all, not even headers), `'stall'`
 *   (headers and the start of a body, then nothing), or a large `latencyMs` (which also delays sign-in/refresh);
 * - a dropped connection: `bodyMode = 'drop'` (closed without an answer), `'truncated'` (closed mid-body);
 * - unreachable: `sim.down()` (stops listening, cuts open connections: ECONNREFUSED), then `sim.up()` listens
 *   again on the same host and port; `close()` followed by `listen(port)` does the same. The call log, counters,
 *   sessions and data survive both.
 * Rate limiting (429 + `Retry-After`): `settings.rateLimit`, and `sim.answer429Next(count, retryAfter)` for
 * exactly the next `count` API calls whatever the rate.
 */

export interface RateLimit {
  /**
   * API calls let through per second, in fixed windows aligned to whole seconds of the simulator's clock
   * (`Math.floor(clock() / 1000)`): once `perSecond` calls of a second were let through, every further API call
   * arriving in that second is answered 429 (those do not use up the rate). 0 answers every API call 429.
   */
  perSecond: number
  /** The `Retry-After` header, sent verbatim: seconds (`"2"`) or an HTTP-date. Default `"1"`. */
  retryAfter?: string
}

export interface SimulatorOptions {
  users?: Record<string, string>
  tokenTtlMs?: number
  latencyMs?: number
  /** Keep at most this many calls in the log (counters are always exact). */
  maxLoggedCalls?: number
  /** The initial `settings.rateLimit`, and what `reset()` restores it to. Default: no limit. */
  rateLimit?: RateLimit
  /**
   * Milliseconds since the epoch, for the rate limit's windows, `callsPerSecond()` and the call log's `at`, so a
   * test can move time without sleeping. Default `Date.now`. Token expiry always uses the real clock (the
   * gateway reads it from the tokens).
   */
  clock?: () => number
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
   * API calls (authenticated ones; a bad token still gets its 401): `malformed`: JSON content type with a broken
   * body; `html`: a text/html page; `mislabeled`: the usual JSON answer sent as text/plain; `error`: 500;
   * `unavailable`: 503 (no `Retry-After`); `stall`: headers and the start of the body, then nothing;
   * `truncated`: the same, then the connection drops; `hang`: no answer at all (not even headers) until the
   * client gives up; `drop`: the connection is closed at once without an answer. `hang` and `drop` log status 0.
   */
  bodyMode: 'normal' | 'malformed' | 'html' | 'mislabeled' | 'error' | 'unavailable' | 'stall' | 'truncated' | 'hang' | 'drop'
  /**
   * Answer API calls beyond a rate with 429 + `Retry-After` (see `RateLimit`); `undefined`: no limit. Checked on
   * arrival, before authentication and before `bodyMode`; the 429 is still sent after `latencyMs`. Over the
   * control API, `null` clears it.
   */
  rateLimit: RateLimit | undefined
}

export interface SimulatorCall {
  method: string
  /** The raw request target's path as received, before any decoding. */
  path: string
  query: string
  status: number
  authenticated: boolean
  /** The Evercycle user whose tokens authenticated the call (also filled in on a 429 when the tokens are good). */
  user: string | undefined
  requestId: string | undefined
  body: unknown
  /** When the simulator handled the call (after `latencyMs`), by its clock. */
  at: number
}

export interface SimulatorCounts {
  signIns: number
  failedSignIns: number
  refreshes: number
  failedRefreshes: number
  /** API calls that passed authentication (a 429 is not one). */
  apiCalls: number
  unauthorized: number
  /** API calls answered 429, by the rate limit or `answer429Next`. */
  rateLimited: number
}

export interface Asset {
  id: string
  name: string
  status: string
  [key: string]: unknown
}
