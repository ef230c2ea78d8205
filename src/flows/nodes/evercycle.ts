import { Type } from '@sinclair/typebox'
import { forbiddenOperation } from '../evercycle-policy.js'
import { defineNodeType } from './node-type.js'
import { asRecord, asString } from '../runtime/http-node.js'
import { isRetryableStatus, NodeFailure } from '../runtime/node-runtime.js'

export const EvercycleParamsSchema = Type.Object(
  {
    /** An operation name from the gateway's registry, as in /api/<operation>. */
    operation: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        "The name of a gateway operation, as in `/api/<operation>` (`GET /api/list` lists them). Checked on save: it must exist, and the flow owner's role must allow it (FLOWRUNNER_EVERCYCLE_OPERATIONS; by default users may call the GET operations, admins all)."
    }),
    query: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Unknown(), { description: 'Query parameters for the operation.' })),
    params: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Unknown(), {
        description: "The operation's path parameters (e.g. `id` for get-asset-id), wherever the operation takes them from."
      })
    ),
    body: Type.Optional(Type.Unknown({ description: 'The JSON body, for operations that take one: an object.' }))
  },
  { additionalProperties: false }
)

export const EvercycleResultSchema = Type.Object({
  status_code: Type.Integer({ description: "Evercycle's status; 400 and above fail the node (5xx are retryable)." }),
  body: Type.Unknown({ description: "Evercycle's answer: parsed JSON, the text when it is not JSON, or null when empty." })
})

/**
 * Calls an Evercycle operation through the gateway's own caller (tokens, path templates, envelope), as the
 * service identity: only the operations the flow owner's role allows (evercycle-policy.ts).
 */
export const evercycle = defineNodeType({
  type: 'evercycle',
  description:
    "Calls an Evercycle operation through the gateway, with the gateway's tokens and upstream budget. When Evercycle answers 429 or its circuit is open, the node waits and runs again without using an attempt.",
  params: EvercycleParamsSchema,
  result: EvercycleResultSchema,
  example: {
    summary: 'Reads one asset by the id the run was given.',
    flow: {
      metadata: { name: 'Read an asset' },
      nodes: {
        asset: {
          type: 'evercycle',
          params: { operation: 'get-asset-id', params: { id: '${input.asset_id}' } },
          retry: { max_attempts: 3, backoff_ms: 1000 },
          timeout: '10s'
        }
      }
    }
  },
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
