import type { Dispatcher } from 'undici'
import { isDomainError } from '../../errors.js'
import type { Operation } from '../../evercycle/operation.js'
import type { OperationInput } from '../../evercycle/prepare-call.js'
import { waitOf } from '../../evercycle/upstream/budget-errors.js'
import { forbiddenOperation } from '../evercycle-policy.js'
import { HttpCallError, readBody } from './http-call.js'
import { NodeFailure, NodeWait, type RunContext } from './node-runtime.js'

export interface EvercycleAdapterDeps {
  /** The gateway registry's operation by name. */
  operation: (name: string) => Operation | undefined
  /** Performs an operation with the gateway's own tokens, through the upstream budget like any gateway call. */
  call: (op: Operation, input: OperationInput, signal: AbortSignal) => Promise<Pick<Dispatcher.ResponseData, 'statusCode' | 'body'>>
  /** The same cap as any other endpoint a flow reads. */
  maxResponseBytes: number
  /** Whether the flow's owner may call the operation (evercycle-policy.ts); false for a flow that is gone. */
  mayCall: (op: Operation, flowId: string) => Promise<boolean>
}

/**
 * What an `evercycle` node calls: a registry operation by name, its path parameters filled from `params`
 * wherever the operation takes them from, the body read capped and parsed as JSON when it is JSON. Failures
 * become node failures, retryable when Evercycle was unavailable or slow. The owner's right to the operation
 * was checked when the flow was saved and is checked again here, since a policy or a role may have changed
 * since: a refusal is final, not retried.
 */
export function evercycleAdapter(deps: EvercycleAdapterDeps): RunContext['evercycle'] {
  return async (operation, input, signal, flowId) => {
    const op = deps.operation(operation)
    if (op === undefined) throw new NodeFailure(`Unknown Evercycle operation ${operation}`, false)
    let allowed: boolean
    try {
      allowed = await deps.mayCall(op, flowId)
    } catch {
      throw new NodeFailure(`Could not check whether this flow may call Evercycle operation ${operation}`, true)
    }
    if (!allowed) throw new NodeFailure(forbiddenOperation(operation), false)
    const query: Record<string, unknown> = { ...input.query }
    const body: Record<string, unknown> = { ...input.body }
    for (const [name, param] of Object.entries(op.pathParams)) {
      const value = input.params?.[name]
      if (value !== undefined) (param.from === 'query' ? query : body)[name] = value
    }
    try {
      const res = await deps.call(op, { query, body }, signal)
      // enforced while reading
      const text = (await readBody(res.body, deps.maxResponseBytes)).toString('utf8')
      let parsed: unknown = text
      try {
        parsed = text === '' ? null : JSON.parse(text)
      } catch {
        // keep the text
      }
      return { status_code: res.statusCode, body: parsed }
    } catch (err) {
      if (err instanceof NodeFailure) throw err
      if (err instanceof HttpCallError) throw new NodeFailure(err.message, err.retryable)
      // Evercycle's 429 (the caller turned it into the budget's pause), an open circuit, no budget now: not a
      // failure of the node, which runs again once the wait is over
      const wait = waitOf(err)
      if (wait !== undefined) throw new NodeWait(`Evercycle operation ${operation}: ${(err as Error).message}`, wait.waitMs, wait.reason, { operation })
      if (isDomainError(err)) {
        const retryable = err.code === 'upstream_unavailable' || err.code === 'upstream_timeout'
        throw new NodeFailure(`Evercycle operation ${operation}: ${err.message}`, retryable)
      }
      throw err
    }
  }
}
