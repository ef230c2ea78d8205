import { Type } from '@sinclair/typebox'
import { forbiddenOperation } from '../evercycle-policy.js'
import { defineNodeType } from './node-type.js'
import { asRecord, asString } from '../runtime/http-node.js'
import { isRetryableStatus, NodeFailure } from '../runtime/node-runtime.js'

export const EvercycleParamsSchema = Type.Object(
  {
    /** An operation name from the gateway's registry, as in /api/<operation>. */
    operation: Type.String({ minLength: 1, maxLength: 64 }),
    query: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Unknown())),
    params: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Unknown())),
    body: Type.Optional(Type.Unknown())
  },
  { additionalProperties: false }
)

/**
 * Calls an Evercycle operation through the gateway's own caller (tokens, path templates, envelope), as the
 * service identity: only the operations the flow owner's role allows (evercycle-policy.ts).
 */
export const evercycle = defineNodeType({
  type: 'evercycle',
  description: 'Calls an Evercycle operation',
  params: EvercycleParamsSchema,
  check: (params, ctx) => {
    if (!ctx.hasOperation(params.operation)) return [{ path: ['operation'], reason: `unknown Evercycle operation "${params.operation}"` }]
    return ctx.mayCallOperation(params.operation) ? [] : [{ path: ['operation'], reason: forbiddenOperation(params.operation) }]
  },
  run: async (p, ctx) => {
    const operation = asString(p.operation, 'operation')
    const body = asRecord(p.body, 'body')
    const query = asRecord(p.query, 'query')
    const params = asRecord(p.params, 'params')
    const res = await ctx.evercycle(operation, { query, body, params }, ctx.signal, ctx.scope.execution.flow_id)
    const logData = { status_code: res.status_code, operation }
    if (res.status_code >= 400) {
      throw new NodeFailure(`Evercycle operation ${operation} failed with status ${res.status_code}`, isRetryableStatus(res.status_code), logData)
    }
    return { result: res, logData }
  }
})
