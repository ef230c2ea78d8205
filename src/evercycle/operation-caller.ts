import type { EvercycleClient, UpstreamResponse } from './client.js'
import type { Operation } from './operation.js'
import { prepareCall, type OperationInput } from './prepare-call.js'
import type { TokenManager } from './token-manager.js'
import { SERVICE_IDENTITY } from './token-store.js'

export interface CallOptions {
  identity?: string
  requestId?: string
  signal?: AbortSignal
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
    const prepared = prepareCall(op, input, this.client.baseUrl)
    const request = { ...prepared, requestId: options.requestId, signal: options.signal, operation: op.name }
    let tokens = await this.tokens.getTokens(identity)
    let res = await this.client.request({ ...request, tokens })
    if (res.statusCode === 401) {
      await res.body.dump()
      tokens = await this.tokens.renew(identity, tokens)
      res = await this.client.request({ ...request, tokens })
    }
    return res
  }
}
