import { isDomainError } from '../errors.js'
import type { EvercycleClient, UpstreamRequest, UpstreamResponse, UpstreamSignal } from './client.js'
import type { Operation } from './operation.js'
import { prepareCall, type OperationInput } from './prepare-call.js'
import type { TokenManager } from './token-manager.js'
import { SERVICE_IDENTITY } from './token-store.js'
import { upstreamWait } from './upstream/budget-errors.js'
import type { CallOutcome, Lane, UpstreamBudget } from './upstream/budget.js'
import type { SharedReads } from './upstream/shared-reads.js'
import { retryAfterMs } from './upstream/retry-after.js'

export interface CallOptions {
  identity?: string
  requestId?: string
  signal?: UpstreamSignal
  /** `flow` for a flow node's call: it never waits in line here (the engine defers the node instead). */
  lane?: Lane
  /** The client sent `Cache-Control: no-cache`: a cached answer is not used (a fresh one is still stored). */
  bypassCache?: boolean
}

/** What the breaker counts as Evercycle failing: 5xx answers, timeouts, unreachable. */
function outcomeOf(res: UpstreamResponse): CallOutcome {
  if (res.statusCode === 429) return { kind: 'rate_limited', retryAfterMs: retryAfterMs(res.headers['retry-after']) }
  return res.statusCode >= 500 ? { kind: 'failure' } : { kind: 'ok' }
}

/**
 * Performs one registry operation with the identity's tokens, through the upstream budget. An upstream 401
 * means the tokens died early (revoked, clock skew): renew once (shared with every other caller that saw the
 * same) and retry once, within the same permit. An upstream 429 pauses the budget for its Retry-After and is
 * answered as `upstream_rate_limited`, like the calls refused during the pause.
 */
export class OperationCaller {
  constructor(
    private readonly client: EvercycleClient,
    private readonly tokens: TokenManager,
    private readonly budget: UpstreamBudget,
    /** Coalescing and caching of GETs; without it every call goes upstream on its own (the CLI in direct mode). */
    private readonly reads?: SharedReads
  ) {}

  async call(op: Operation, input: OperationInput, options: CallOptions = {}): Promise<UpstreamResponse> {
    const identity = options.identity ?? SERVICE_IDENTITY
    const request: UpstreamRequest = prepareCall(op, input, this.client.baseUrl)
    // one request object, completed in place (the client keeps no reference to it), not copied per step
    request.requestId = options.requestId
    request.operation = op.name
    const reads = this.reads
    if (op.method === 'GET' && reads !== undefined) {
      const { response } = await reads.read({
        op,
        identity,
        // the rendered path holds the path parameters; the key sorts the query, so its order never matters
        params: { path: request.path, query: request.query ?? {} },
        lane: options.lane ?? 'interactive',
        signal: options.signal,
        bypassCache: options.bypassCache === true,
        fetch: (signal) => this.send(op, request, identity, { ...options, signal })
      })
      return response
    }
    request.signal = options.signal
    const res = await this.send(op, request, identity, options)
    if (res.statusCode >= 200 && res.statusCode < 300) reads?.wrote(op)
    return res
  }

  /** One upstream call through the budget, retried once with renewed tokens after a 401. */
  private async send(op: Operation, request: UpstreamRequest, identity: string, options: CallOptions): Promise<UpstreamResponse> {
    request.signal = options.signal
    // usable tokens already in memory (the usual case) are taken without a round of promises
    const tokens = this.tokens.usableNow(identity) ?? (await this.tokens.getTokens(identity, options.requestId))
    request.tokens = tokens
    const permit = await this.budget.acquire(options.lane ?? 'interactive', options.signal)
    let outcome: CallOutcome = { kind: 'aborted' }
    try {
      let res = await this.client.request(request)
      if (res.statusCode === 401) {
        await res.body.dump()
        request.tokens = await this.tokens.renew(identity, tokens, options.requestId)
        res = await this.client.request(request)
      }
      outcome = outcomeOf(res)
      if (outcome.kind === 'rate_limited') {
        await res.body.dump()
        throw upstreamWait('rate_limited', outcome.retryAfterMs)
      }
      return res
    } catch (err) {
      if (outcome.kind === 'aborted' && options.signal?.aborted !== true && isDomainError(err) && err.code.startsWith('upstream_')) outcome = { kind: 'failure' }
      throw err
    } finally {
      this.budget.release(permit, outcome)
    }
  }
}
