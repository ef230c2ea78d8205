import { Type } from '@sinclair/typebox'
import { checkNotSelf } from './checks.js'
import { defineNodeType } from './node-type.js'
import { NodeFailure } from '../runtime/node-runtime.js'

export const FlowParamsSchema = Type.Object(
  {
    flow: Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        "The id of the flow to run (e.g. \"flow-8d0c…\"), one of the same account's flows; its current version when the child starts. A `${...}` template may give it. A flow may not name itself."
    }),
    input: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "The child's input; its `${...}` templates are resolved in this flow's scope. When absent the child's input is {}."
      })
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
  description:
    "Runs another flow as a child execution and waits for it, holding no worker meanwhile. The child's result becomes the node's result; a child that fails or is cancelled fails the node.",
  params: FlowParamsSchema,
  result: Type.Unknown({ description: "The child execution's result: the result of the last node it ran." }),
  example: {
    summary: 'Runs a shared "grade one asset" flow for the asset the run was given.',
    flow: {
      metadata: { name: 'Grade with the shared flow' },
      nodes: {
        grade: { type: 'flow', params: { flow: 'flow-8d0c2f4e', input: { asset_id: '${input.asset_id}' } } }
      }
    }
  },
  check: (params, ctx) => checkNotSelf(params.flow, ctx.flowId),
  run: async (p) => {
    if (typeof p.flow !== 'string' || p.flow === '') throw new NodeFailure(`flow must be a flow id, got ${JSON.stringify(p.flow)}`, false)
    const input = p.input ?? {}
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new NodeFailure('input must be an object', false)
    return { result: null, spawn: { mode: 'flow', flow: p.flow, inputs: [input], concurrency: 1, onItemError: 'fail' } }
  }
})
