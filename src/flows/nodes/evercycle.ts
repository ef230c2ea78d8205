import { Type } from '@sinclair/typebox'
import { defineNodeType } from './node-type.js'

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

/** Calls an Evercycle operation through the gateway's own caller (tokens, path templates, envelope). */
export const evercycle = defineNodeType({
  type: 'evercycle',
  description: 'Calls an Evercycle operation',
  params: EvercycleParamsSchema,
  check: (params, ctx) =>
    ctx.hasOperation(params.operation) ? [] : [{ path: ['operation'], reason: `unknown Evercycle operation "${params.operation}"` }]
})
