import { Type } from '@sinclair/typebox'
import { checkNotSelf } from './checks.js'
import { defineNodeType } from './node-type.js'
import { NodeFailure } from '../runtime/node-runtime.js'

export const FlowParamsSchema = Type.Object(
  {
    flow: Type.String({ minLength: 1, maxLength: 200, description: 'The id of the flow to run (its latest version when the child starts); a template may give it' }),
    input: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: "The child's input; `${...}` templates are resolved against this flow's scope. Default {}" })
    )
  },
  { additionalProperties: false }
)

/**
 * Runs another flow as a child execution, as this execution's account, and waits for it without holding a
 * worker: the child's result is this node's result; a child that fails or is cancelled fails the node.
 */
export const flow = defineNodeType({
  type: 'flow',
  description: "Runs another flow as a child execution and waits for it; the child's result is the node's result",
  params: FlowParamsSchema,
  check: (params, ctx) => checkNotSelf(params.flow, ctx.flowId),
  run: async (p) => {
    if (typeof p.flow !== 'string' || p.flow === '') throw new NodeFailure(`flow must be a flow id, got ${JSON.stringify(p.flow)}`, false)
    const input = p.input ?? {}
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new NodeFailure('input must be an object', false)
    return { result: null, spawn: { mode: 'flow', flow: p.flow, inputs: [input], concurrency: 1, onItemError: 'fail' } }
  }
})
