import { Type } from '@sinclair/typebox'
import { checkJsonata } from './checks.js'
import { defineNodeType } from './node-type.js'

export const TransformParamsSchema = Type.Object(
  { expression: Type.String({ minLength: 1, maxLength: 65536, description: 'JSONata over { input, nodes, secrets }' }) },
  { additionalProperties: false }
)

/** Reshapes data: the node's result is the expression's value. */
export const transform = defineNodeType({
  type: 'transform',
  description: 'Computes a value with a JSONata expression',
  params: TransformParamsSchema,
  rawExpressions: ['expression'],
  check: (params) => checkJsonata(params.expression, ['expression']),
  run: async (p, ctx) => ({ result: (await ctx.evaluate(String(p.expression))) ?? null })
})
