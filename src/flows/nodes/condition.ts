import { Type } from '@sinclair/typebox'
import { checkJsonata } from './checks.js'
import { defineNodeType, type ParamIssue } from './node-type.js'

export const ConditionParamsSchema = Type.Object(
  {
    expression: Type.String({
      minLength: 1,
      maxLength: 65536,
      description: 'JSONata over { input, nodes, secrets }; its value names the `next` action to take'
    })
  },
  { additionalProperties: false }
)

/** Branches: the expression's value (e.g. "approved", or true/false) picks the entry of `next` to follow. */
export const condition = defineNodeType({
  type: 'condition',
  description: 'Chooses the next node with a JSONata expression',
  params: ConditionParamsSchema,
  rawExpressions: ['expression'],
  check: (params, ctx) => {
    const issues: ParamIssue[] = checkJsonata(params.expression, ['expression'])
    if (Object.keys(ctx.next).length === 0) issues.push({ path: [], reason: 'a condition needs `next` entries to choose from' })
    return issues
  },
  run: async (p, ctx) => {
    const value = await ctx.evaluate(String(p.expression))
    const action = typeof value === 'string' ? value : typeof value === 'boolean' ? String(value) : value === undefined || value === null ? 'false' : JSON.stringify(value)
    return { result: value ?? null, action }
  }
})
