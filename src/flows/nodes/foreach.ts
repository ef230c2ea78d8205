import { Type } from '@sinclair/typebox'
import { checkItems, checkNotSelf } from './checks.js'
import { defineNodeType } from './node-type.js'
import { NodeFailure } from '../runtime/node-runtime.js'

/** Items one `foreach` node may fan out over. */
export const MAX_ITEMS = 100_000

export const ForeachParamsSchema = Type.Object(
  {
    items: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.Unknown())], {
      description: 'The items: a `${...}` template giving an array (e.g. "${nodes.assets.body.data}"), or a literal array'
    }),
    flow: Type.String({ minLength: 1, maxLength: 200, description: 'The id of the flow each item runs (its latest version when the node starts)' }),
    input: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Each child\'s input; `${item}` and `${index}` are the current item and its position. Default {"item": "${item}", "index": "${index}"}'
      })
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Items running at once (default 10)' })),
    on_item_error: Type.Optional(
      Type.Union([Type.Literal('continue'), Type.Literal('fail')], {
        default: 'continue',
        description: '"continue" (default): every item runs, failures are counted; "fail": the first failed item cancels the others and fails the node'
      })
    )
  },
  { additionalProperties: false }
)

const DEFAULT_INPUT = { item: '${item}', index: '${index}' }

/**
 * Fan-out: runs a flow once per item, each a child execution, at most `concurrency` at once, and waits for
 * them without holding a worker. Its result counts the items and lists their results in item order.
 */
export const foreach = defineNodeType({
  type: 'foreach',
  description: 'Runs a flow once per item (fan-out) and waits for them; the result counts the items and lists their results',
  params: ForeachParamsSchema,
  rawExpressions: ['input'],
  check: (params, ctx) => [...checkItems(params.items), ...checkNotSelf(params.flow, ctx.flowId)],
  run: async (p, ctx) => {
    const items = p.items
    if (!Array.isArray(items)) throw new NodeFailure(`items must be an array, got ${items === null ? 'null' : typeof items}`, false)
    if (items.length > MAX_ITEMS) throw new NodeFailure(`items has ${items.length} elements; a foreach node takes at most ${MAX_ITEMS}`, false)
    if (typeof p.flow !== 'string' || p.flow === '') throw new NodeFailure(`flow must be a flow id, got ${JSON.stringify(p.flow)}`, false)
    const inputs = await ctx.resolveEach(p.input ?? DEFAULT_INPUT, items)
    const concurrency = typeof p.concurrency === 'number' ? p.concurrency : 10
    return {
      result: null,
      spawn: { mode: 'foreach', flow: p.flow, inputs, concurrency, onItemError: p.on_item_error === 'fail' ? 'fail' : 'continue' }
    }
  }
})
