import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AUTH_PATHS } from '../../src/evercycle/client.js'
import { flowReserve } from '../../src/evercycle/upstream/create-budget.js'
import type { RecordedFailure } from '../../src/evercycle/upstream/upstream-activity.js'
import { GatewayStatusSchema, type GatewayStatus, type UpstreamErrorSchema } from './gateway-status-schemas.js'
import { errors } from './schemas.js'

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString()
}

/** A base URL may carry a user and password (or a key in its query): the page shows where, never how. */
function shownUrl(url: string): string {
  const u = new URL(url)
  u.username = ''
  u.password = ''
  u.search = ''
  u.hash = ''
  return u.href.replace(/\/$/, '')
}

/**
 * The gateway as the console's "Gateway status" page shows it, to any signed-in account: the service
 * identity's token times, Evercycle's health and circuit breaker, the upstream budget and the recent failed
 * calls, all as this replica sees them. Read-only, and nothing in it is a token, a password or a request's data.
 */
const gatewayStatus: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireSession)

  const pathOf = (operation: string): string | null =>
    app.registry.get(operation)?.path ?? (Object.hasOwn(AUTH_PATHS, operation) ? AUTH_PATHS[operation as keyof typeof AUTH_PATHS] : null)

  const errorReply = (f: RecordedFailure): typeof UpstreamErrorSchema.static => ({
    at: new Date(f.at).toISOString(),
    operation: f.operation,
    method: f.method,
    path: pathOf(f.operation),
    status: f.status,
    code: f.code,
    reason: f.reason,
    message: f.message,
    request_id: f.requestId
  })

  app.get(
    '/gateway/status',
    {
      schema: {
        tags: ['flowrunner'],
        summary: "The gateway's Evercycle token, upstream health, budget and recent upstream errors (this replica)",
        response: { 200: GatewayStatusSchema, ...errors(401) }
      }
    },
    async (): Promise<GatewayStatus> => {
      const now = Date.now()
      const ec = app.config.evercycle
      const tokens = await app.tokens.status(undefined, now)
      const events = app.tokens.events
      const activity = app.upstreamActivity.snapshot()
      const breaker = app.upstreamBreaker.snapshot()
      const budget = app.upstreamBudget
      const { rate, burst } = ec.budget
      return {
        checked_at: new Date(now).toISOString(),
        token: {
          signed_in: tokens.signedIn,
          expires_at: iso(tokens.expiresAt),
          last_refresh_at: iso(tokens.obtainedAt),
          next_refresh_at: iso(tokens.refreshDueAt),
          renewing: tokens.renewing,
          sign_in_blocked_until: iso(tokens.signInBlockedUntil),
          refreshes: events.refreshes,
          sign_ins: events.signIns,
          renewal_failures: events.failures
        },
        upstream: {
          base_url: shownUrl(ec.baseUrl),
          timeout_ms: ec.timeoutMs,
          last_success_at: iso(activity.lastSuccessAt),
          last_failure_at: iso(activity.lastFailure?.at),
          failures: activity.failures,
          breaker: {
            state: breaker.state,
            opened_at: iso(breaker.openedAt),
            next_probe_at: iso(breaker.probeAt),
            consecutive_failures: breaker.consecutiveFailures,
            failure_threshold: ec.budget.breaker.failures,
            window_ms: ec.budget.breaker.windowMs,
            cooldown_ms: ec.budget.breaker.cooldownMs
          }
        },
        budget: {
          rate:
            rate === undefined || burst === undefined
              ? null
              : { per_second: rate, burst, flow_reserve: flowReserve(burst), shared: app.db.kind === 'postgres' },
          max_concurrency: ec.budget.maxConcurrency,
          queue_timeout_ms: ec.budget.queueTimeoutMs,
          in_flight: budget.active,
          queued: { interactive: budget.queued('interactive'), flow: budget.queued('flow') },
          paused_until: budget.pausedUntilMs === 0 ? null : iso(budget.pausedUntilMs),
          refused: { ...budget.stats.refused },
          rate_limited_by_upstream: budget.stats.rateLimitedByUpstream,
          waited_ms: { ...budget.stats.waitedMs }
        },
        recent_errors: activity.recent.map(errorReply)
      }
    }
  )
}

export default gatewayStatus
