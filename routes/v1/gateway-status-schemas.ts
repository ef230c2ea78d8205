import { Type } from '@sinclair/typebox'

const Time = Type.String({ format: 'date-time' })
const MaybeTime = (description: string) => Type.Union([Time, Type.Null()], { description })
const Count = (description: string) => Type.Integer({ minimum: 0, description })

const TokenStatusSchema = Type.Object(
  {
    signed_in: Type.Boolean({ description: 'Tokens are held and not expired' }),
    expires_at: MaybeTime('When Evercycle stops accepting the held tokens; null without tokens'),
    last_refresh_at: MaybeTime('When the held tokens were obtained, by sign-in or refresh'),
    next_refresh_at: MaybeTime(
      'From then on the next upstream call renews the tokens first (TOKEN_REFRESH_SKEW_SECONDS before expiry, at most half their lifetime); nothing renews them on a timer'
    ),
    renewing: Type.Boolean({ description: 'A refresh or sign-in is in flight on this replica' }),
    sign_in_blocked_until: MaybeTime('After Evercycle refused the service credentials: no sign-in is tried before then (this replica)'),
    refreshes: Count('Refreshes by this replica since it started'),
    sign_ins: Count('Sign-ins by this replica since it started'),
    renewal_failures: Count('Refused refreshes and sign-ins on this replica since it started')
  },
  { description: "The service identity's Evercycle tokens: times and counts, never a token" }
)

const BreakerSchema = Type.Object({
  state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')], {
    description: 'open: calls fail fast; half_open: one probe call is out'
  }),
  opened_at: MaybeTime('When it last left closed (a failed probe does not move it); null while closed'),
  next_probe_at: MaybeTime('While open: when the next call is let through as the probe'),
  consecutive_failures: Count('While closed: consecutive failures within the window'),
  failure_threshold: Type.Integer({ description: 'UPSTREAM_BREAKER_FAILURES' }),
  window_ms: Type.Integer({ description: 'UPSTREAM_BREAKER_WINDOW_MS' }),
  cooldown_ms: Type.Integer({ description: 'UPSTREAM_BREAKER_COOLDOWN_MS' })
})

const UpstreamSchema = Type.Object({
  base_url: Type.String({ description: 'EVERCYCLE_BASE_URL without credentials, query or fragment' }),
  timeout_ms: Type.Integer(),
  last_success_at: MaybeTime('The last call Evercycle answered below 400, on this replica; null when none since it started'),
  last_failure_at: MaybeTime('The last failed call (the newest of recent_errors)'),
  failures: Count('Failed calls on this replica since it started (recent_errors keeps the last few)'),
  breaker: BreakerSchema
})

const BudgetSchema = Type.Object(
  {
    rate: Type.Union(
      [
        Type.Object({
          per_second: Type.Number({ description: 'UPSTREAM_RATE_LIMIT' }),
          burst: Type.Number({ description: 'UPSTREAM_RATE_BURST, at most the rate' }),
          flow_reserve: Type.Integer({ description: 'Tokens a flow call must leave for interactive calls' }),
          shared: Type.Boolean({ description: 'One bucket in PostgreSQL for every replica' })
        }),
        Type.Null()
      ],
      { description: 'null: no UPSTREAM_RATE_LIMIT, calls are limited by concurrency only. Tokens left in the bucket are not shown (with a shared rate they live in the database)' }
    ),
    max_concurrency: Type.Integer({ description: 'Calls in flight at once on this replica' }),
    queue_timeout_ms: Type.Integer({ description: 'How long an interactive call waits for room before a 503' }),
    in_flight: Count('Calls to Evercycle in flight on this replica now'),
    queued: Type.Object(
      { interactive: Count('Interactive calls waiting for a slot'), flow: Count('Always 0: flow calls never wait here, the engine defers them') },
      { description: 'Calls waiting for a slot now, by lane' }
    ),
    paused_until: MaybeTime("The end of an upstream 429's pause: every call is refused until then"),
    refused: Type.Object(
      { busy: Type.Integer(), rate_limited: Type.Integer(), circuit_open: Type.Integer() },
      { description: 'Calls the budget refused or deferred since this replica started, by reason' }
    ),
    rate_limited_by_upstream: Count('Answers 429 from Evercycle since this replica started'),
    waited_ms: Type.Object(
      { interactive: Type.Number(), flow: Type.Number() },
      { description: 'Total time calls waited for the budget since this replica started, by lane' }
    )
  },
  { description: "The upstream budget every Evercycle call passes, as this replica sees it (the figures /metrics exports)" }
)

export const UpstreamErrorSchema = Type.Object({
  at: Time,
  operation: Type.String({ description: 'The registry operation, or auth.signin / auth.refresh' }),
  method: Type.String(),
  path: Type.Union([Type.String(), Type.Null()], { description: "The operation's path template (no values); null when the registry no longer has it" }),
  status: Type.Union([Type.Integer(), Type.Null()], { description: "Evercycle's HTTP status; null when no answer came" }),
  code: Type.Union([Type.String(), Type.Null()], { description: 'Why no answer came: upstream_unavailable, upstream_timeout; null for an answer' }),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'connection_refused, dns_failure, connect_timeout, connection_reset, network_error' }),
  message: Type.String({ description: "Never the answer's body" }),
  request_id: Type.Union([Type.String(), Type.Null()], { description: 'The request that made the call (its X-Request-Id), to find it in the logs' })
})

export const GatewayStatusSchema = Type.Object({
  checked_at: Time,
  token: TokenStatusSchema,
  upstream: UpstreamSchema,
  budget: BudgetSchema,
  recent_errors: Type.Array(UpstreamErrorSchema, {
    description:
      'The last failed upstream calls on this replica, newest first (answered 4xx/5xx, or not at all). A body that fails after its headers (a stall, a dropped connection) is not counted here'
  })
})

export type GatewayStatus = typeof GatewayStatusSchema.static
