import type { EvercycleClient, UpstreamRequest, UpstreamResponse, UpstreamSignal } from './client.js'
import type { Operation } from './operation.js'
import { prepareCall, type OperationInput } from './prepare-call.js'
import type { TokenManager } from './token-manager.js'
import { SERVICE_IDENTITY } from './token-store.js'

export interface CallOptions {
  identity?: string
  requestId?: string
  signal?: UpstreamSignal
}

/**
 * Performs one registry operation with the identity's tokens. An upstream 401 means the tokens died early
 * (revoked, clock skew): renew once (shared with every other caller that saw the same) and retry once.
 */
export class OperationCaller {
  constructor(
    private readonly client: EvercycleClient,
    private readonly tokens: TokenManager
  ) {}

  async call(op: Operation, input: OperationInput, options: CallOptions = {}): Promise<UpstreamResponse> {
    const identity = options.identity ?? SERVICE_IDENTITY
    const request: UpstreamRequest = prepareCall(op, input, this.client.baseUrl)
    // one request object, completed in place (the client keeps no reference to it), not copied per step
    request.requestId = options.requestId
    request.signal = options.signal
    request.operation = op.name
    // usable tokens already in memory (the usual case) are taken without a round of promises
    const tokens = this.tokens.usableNow(identity) ?? (await this.tokens.getTokens(identity, options.requestId))
    request.tokens = tokens
    let res = await this.client.request(request)
    if (res.statusCode === 401) {
      await res.body.dump()
      request.tokens = await this.tokens.renew(identity, tokens, options.requestId)
      res = await this.client.request(request)
    }
    return res
  }
}
