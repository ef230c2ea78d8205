import { Type } from '@sinclair/typebox'
import { checkJsonata } from './checks.js'
import { defineNodeType, type ParamIssue } from './node-type.js'

export const ConditionParamsSchema = Type.Object(
  {
    expression: Type.String({
      minLength: 1,
      maxLength: 65536,
      description:
        'A JSONata expression (written as is, without `${...}`) over `input`, `nodes`, `secrets` and `execution`. Its value names the `next` entry to follow: a string as it is, true or false as "true" or "false", null or nothing as "false", anything else as its JSON text.'
    })
  },
  { additionalProperties: false }
)

/** Branches: the expression's value (e.g. "approved", or true/false) picks the entry of `next` to follow. */
export const condition = defineNodeType({
  type: 'condition',
  description:
    "Chooses the next node with a JSONata expression. When `next` has no entry for the value, `success` and then `default` are tried; with none of them the execution ends, with the condition's value as its result.",
  params: ConditionParamsSchema,
  result: Type.Unknown({ description: "The expression's value (null when it gives nothing)." }),
  example: {
    summary: 'Sends large orders for review and the others straight on.',
    flow: {
      metadata: { name: 'Route an order', start: 'check' },
      nodes: {
        check: {
          type: 'condition',
          params: { expression: 'input.total > 1000 ? "review" : "accept"' },
          next: { review: 'ask_review', accept: 'accept' }
        },
        ask_review: { type: 'webhook', params: { url: 'https://hooks.example.com/reviews', body: '${input}' } },
        accept: { type: 'transform', params: { expression: '{"accepted": input.order_id}' } }
      }
    }
  },
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
