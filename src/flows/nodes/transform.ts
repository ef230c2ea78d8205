import { Type } from '@sinclair/typebox'
import { checkJsonata } from './checks.js'
import { defineNodeType } from './node-type.js'

export const TransformParamsSchema = Type.Object(
  {
    expression: Type.String({
      minLength: 1,
      maxLength: 65536,
      description:
        'A JSONata expression (written as is, without `${...}`) over the scope `input`, `nodes`, `secrets` and `execution`. Checked for syntax on save.'
    })
  },
  { additionalProperties: false }
)

/** Reshapes data: the node's result is the expression's value. */
export const transform = defineNodeType({
  type: 'transform',
  description: "Computes a value with a JSONata expression: reshapes the input or earlier nodes' results. The value is the node's result.",
  params: TransformParamsSchema,
  result: Type.Unknown({ description: "The expression's value (null when it gives nothing)." }),
  example: {
    summary: "Keeps the active assets from an earlier node's answer and counts them.",
    flow: {
      metadata: { name: 'Count active assets', start: 'assets' },
      nodes: {
        assets: { type: 'evercycle', params: { operation: 'get-all' }, next: { default: 'summary' } },
        summary: {
          type: 'transform',
          params: { expression: '( $active := nodes.assets.body.data[status = "active"]; {"count": $count($active), "ids": $active.id} )' }
        }
      }
    }
  },
  rawExpressions: ['expression'],
  check: (params) => checkJsonata(params.expression, ['expression']),
  run: async (p, ctx) => ({ result: (await ctx.evaluate(String(p.expression))) ?? null })
})
