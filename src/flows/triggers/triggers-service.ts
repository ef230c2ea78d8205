import { randomUUID } from 'node:crypto'
import type { Principal } from '../../accounts/account-service.js'
import { domainError } from '../../errors.js'
import type { Driver } from '../../store/driver.js'
import type { Execution, TriggeredBy } from '../../store/execution-rows.js'
import type { ExecutionsRepository } from '../../store/executions-repository.js'
import { IdempotencyRepository } from '../../store/idempotency-repository.js'
import type { SealedValue } from '../../store/secrets-repository.js'
import { TriggersRepository, type TriggerRow } from '../../store/triggers-repository.js'
import type { FlowSpec } from '../definition-schema.js'
import type { Flow } from '../flow-service.js'
import { hookHeaders, requestHash, SIGNATURE_HEADER, verifySignature } from './hook-request.js'
import { HookRateLimiter } from './hook-rate.js'
import type { ExecutionStarter } from './scheduler.js'
import type { TriggerSpec } from './trigger-schema.js'
import { newHookId, nextTick } from './trigger-sync.js'

export type { TriggerRow } from '../../store/triggers-repository.js'

export interface TriggersServiceDeps {
  db: Driver
  executions: ExecutionsRepository
  engine: ExecutionStarter & { spec(flowId: string, revision: number): Promise<FlowSpec> }
  /** The flow as `actor` may see it (404 otherwise). */
  flow: (actor: Principal, flowId: string) => Promise<Flow>
  /** A sealed secret of an account in plain text. */
  openSecret: (accountId: string, key: string, sealed: SealedValue) => string
  /** Requests a second each webhook takes on this replica. */
  hookRate: number
  /** The scheduler on this replica looks again now (a schedule was resumed). */
  kick: () => void
  log: { warn(obj: object, msg: string): void }
}

/** A run's start: the execution, and whether an earlier request with the same key had created it. */
export interface Started {
  execution: Execution
  replayed: boolean
}

export interface HookRequest {
  rawBody: Buffer
  body: unknown
  headers: Record<string, string | string[] | undefined>
  query: Record<string, string>
  idempotencyKey: string | undefined
}

type RunTarget = { id: string; revision: number; accountId: string }

function triggerNotFound(): Error {
  return domainError('not_found', 'Trigger not found')
}

/**
 * Triggers as the API sees them (list, pause and resume, rotate a webhook's id), inbound webhook requests,
 * and runs with an Idempotency-Key. Anything that creates an execution here does it in one transaction with
 * what makes it happen once: the key's claim, the webhook's record.
 */
export class TriggersService {
  private readonly triggers: TriggersRepository
  private readonly hookRate: HookRateLimiter
  /** Inbound webhook requests on this replica, by outcome. */
  readonly hookStats = { started: 0, replayed: 0, not_found: 0, rate_limited: 0, bad_signature: 0 }

  constructor(private readonly deps: TriggersServiceDeps) {
    this.triggers = new TriggersRepository(deps.db)
    this.hookRate = new HookRateLimiter(deps.hookRate)
  }

  async list(actor: Principal, flowId: string): Promise<TriggerRow[]> {
    await this.deps.flow(actor, flowId)
    return this.triggers.list(flowId)
  }

  /** Pauses or resumes a trigger; a resumed schedule's next tick is the first after now (nothing is caught up). */
  async setEnabled(actor: Principal, flowId: string, triggerId: string, enabled: boolean): Promise<TriggerRow> {
    await this.deps.flow(actor, flowId)
    const updated = await this.deps.db.transaction(async (tx) => {
      const repo = this.triggers.inTransaction(tx)
      const row = await repo.get(flowId, triggerId, true)
      if (row === undefined) throw triggerNotFound()
      if (row.enabled === enabled) return row
      const spec = row.definition as TriggerSpec
      const next = enabled && spec.type === 'schedule' ? nextTick(spec, new Date()) : null
      await repo.setEnabled(flowId, triggerId, enabled, next)
      return { ...row, enabled, nextFireAt: next }
    })
    if (enabled) this.deps.kick()
    return updated
  }

  /** A new hook id for a webhook trigger; the old one stops answering at once. */
  async rotate(actor: Principal, flowId: string, triggerId: string): Promise<TriggerRow> {
    await this.deps.flow(actor, flowId)
    const row = await this.triggers.get(flowId, triggerId)
    if (row === undefined) throw triggerNotFound()
    if (row.type !== 'webhook') {
      throw domainError('invalid_request', `Trigger ${triggerId} is a schedule: only a webhook has a hook id to rotate`, {
        details: { field: 'trigger_id', reason: 'is not a webhook trigger', location: 'params' }
      })
    }
    const hookId = newHookId()
    if (!(await this.triggers.rotate(flowId, triggerId, hookId))) throw triggerNotFound()
    if (row.hookId !== null) {
      this.hookRate.forget(row.hookId)
      this.hookRate.forget(`refused:${row.hookId}`)
    }
    return { ...row, hookId }
  }

  /**
   * An inbound webhook request: 404 for an unknown or paused hook, 401 when it needs a signature and the
   * request's is missing or wrong, 429 past its rate. Refused requests draw on a bucket of their own, so a
   * flood of unsigned requests to a leaked URL is cut off without starving the signed ones. The execution's
   * input is `{body, headers, query}`.
   */
  async hook(hookId: string, request: HookRequest): Promise<Started> {
    const trigger = await this.triggers.byHook(hookId)
    if (trigger === undefined) {
      this.hookStats.not_found++
      throw domainError('not_found', 'Webhook not found')
    }
    const spec = trigger.definition as Extract<TriggerSpec, { type: 'webhook' }>
    if (spec.secret !== null && !this.signed(trigger, spec.secret, request)) {
      this.limit(`refused:${hookId}`)
      this.hookStats.bad_signature++
      throw domainError('invalid_signature', 'Missing or invalid X-FlowRunner-Signature (sha256=<hex HMAC-SHA256 of the raw body>)')
    }
    this.limit(hookId)
    const input = { body: request.body, headers: hookHeaders(request.headers), query: request.query }
    const key = request.idempotencyKey === undefined ? undefined : { key: request.idempotencyKey, hash: requestHash({ body: request.body, query: request.query }) }
    const started = await this.start(
      { id: trigger.flowId, revision: trigger.revision, accountId: trigger.accountId },
      input,
      key,
      { type: 'webhook', id: trigger.triggerId }
    )
    this.hookStats[started.replayed ? 'replayed' : 'started']++
    return started
  }

  /** Takes a token from the bucket, or throws 429 with Retry-After. */
  private limit(bucket: string): void {
    const wait = this.hookRate.take(bucket)
    if (wait === 0) return
    this.hookStats.rate_limited++
    throw domainError('rate_limited', 'Too many requests to this webhook; retry later', { headers: { 'retry-after': String(wait) } })
  }

  private signed(trigger: { accountId: string; flowId: string; sealedSecret: SealedValue | undefined }, secretKey: string, request: HookRequest): boolean {
    if (trigger.sealedSecret === undefined) {
      // the owner deleted the secret: nothing can be verified, so nothing starts
      this.deps.log.warn({ flowId: trigger.flowId, secret: secretKey }, 'flowrunner webhook refused: its signing secret no longer exists')
      return false
    }
    const secret = this.deps.openSecret(trigger.accountId, secretKey, trigger.sealedSecret)
    const header = request.headers[SIGNATURE_HEADER]
    return verifySignature(secret, request.rawBody, Array.isArray(header) ? header[0] : header)
  }

  /** `POST /flows/{id}/run` with an Idempotency-Key. */
  runOnce(flow: RunTarget, input: unknown, idempotencyKey: string): Promise<Started> {
    return this.start(flow, input, { key: idempotencyKey, hash: requestHash({ input }) }, undefined)
  }

  /**
   * Creates the execution, in one transaction with the key's claim (first, so a concurrent request with the
   * same key, on any replica, waits for this one and then finds its execution) and the webhook's record.
   */
  private async start(flow: RunTarget, input: unknown, key: { key: string; hash: string } | undefined, triggeredBy: TriggeredBy | undefined): Promise<Started> {
    const spec = await this.deps.engine.spec(flow.id, flow.revision)
    const id = `exec-${randomUUID()}`
    const outcome = await this.deps.db.transaction(async (tx): Promise<{ created: Execution } | { earlier: string }> => {
      if (key !== undefined) {
        const claim = await new IdempotencyRepository(tx).claim(flow.id, key.key, key.hash, id)
        if (!claim.claimed) {
          if (claim.requestHash !== key.hash) {
            throw domainError('idempotency_key_reused', 'This Idempotency-Key was used with a different request within the last 24 hours', {
              details: { field: 'Idempotency-Key', reason: 'was used with a different request body', location: 'headers' }
            })
          }
          return { earlier: claim.executionId }
        }
      }
      const created = await this.deps.engine.createIn(tx, flow, { id: spec.start, node: spec.nodes[spec.start] }, input, triggeredBy, id)
      if (triggeredBy !== undefined) await this.triggers.inTransaction(tx).fired(flow.id, triggeredBy.id, null, { at: created.createdAt, executionId: created.id })
      return { created }
    })
    if ('created' in outcome) {
      this.deps.engine.created(1)
      return { execution: outcome.created, replayed: false }
    }
    const earlier = await this.deps.executions.get(outcome.earlier)
    if (earlier === undefined) throw domainError('not_found', 'Execution not found')
    return { execution: earlier, replayed: true }
  }
}
