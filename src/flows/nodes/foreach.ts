import { Type } from '@sinclair/typebox'
import { checkItems, checkNotSelf } from './checks.js'
import { defineNodeType } from './node-type.js'
import { NodeFailure } from '../runtime/node-runtime.js'

/** Items one `foreach` node may fan out over. */
export const MAX_ITEMS = 100_000

export const ForeachParamsSchema = Type.Object(
  {
    items: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.Unknown())], {
      description: `The items: a \`\${...}\` template giving an array (e.g. "\${nodes.assets.body.data}"), or a literal array. At most ${MAX_ITEMS.toLocaleString('en-US')} items.`
    }),
    flow: Type.String({
      minLength: 1,
      maxLength: 200,
      description: "The id of the flow each item runs, one of the same account's flows; its current version when the node starts. A flow may not name itself."
    }),
    input: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          'Each child\'s input, resolved once per item with `item` (the current item) and `index` (its position, from 0) in scope besides this flow\'s. When absent it is {"item": "${item}", "index": "${index}"}.'
      })
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'How many items run at once.' })),
    on_item_error: Type.Optional(
      Type.Union([Type.Literal('continue'), Type.Literal('fail')], {
        default: 'continue',
        description:
          '"continue": every item runs and failures are counted in the result; "fail": the first item that fails or is cancelled cancels the others and fails the node.'
      })
    )
  },
  { additionalProperties: false }
)

export const ForeachResultSchema = Type.Object({
  total: Type.Integer({ description: 'Items in all.' }),
  completed: Type.Integer({ description: 'Items whose execution completed.' }),
  failed: Type.Integer({ description: 'Items whose execution failed.' }),
  cancelled: Type.Integer({ description: 'Items whose execution was cancelled.' }),
  results: Type.Optional(
    Type.Array(Type.Unknown(), { description: "Each item's result, in item order; null for an item that did not complete." })
  ),
  results_omitted: Type.Optional(
    Type.Boolean({ description: "true instead of `results` when they would not fit in a node's result (FLOWRUNNER_MAX_RESULT_BYTES); each item's result stays in its own execution." })
  ),
  errors: Type.Array(
    Type.Object({
      index: Type.Integer({ description: "The item's position." }),
      execution_id: Type.String({ description: "The item's execution." }),
      status: Type.String({ description: '"failed" or "cancelled".' }),
      error: Type.Union([Type.String(), Type.Null()], { description: 'Why it failed ("cancelled" for a cancelled item).' })
    }),
    { description: 'The items that did not complete (the first 100), in item order.' }
  )
})

const DEFAULT_INPUT = { item: '${item}', index: '${index}' }

/**
 * Fan-out: runs a flow once per item, each a child execution, at most `concurrency` at once, and waits for
 * them without holding a worker. Its result counts the items and lists their results in item order.
 */
export const foreach = defineNodeType({
  type: 'foreach',
  description:
    'Runs a flow once per item (fan-out), each item a child execution, and waits for them all, holding no worker meanwhile. The result counts the items and lists their results in item order.',
  params: ForeachParamsSchema,
  result: ForeachResultSchema,
  example: {
    summary: 'Lists the assets, then grades each one in its own execution of another flow, five at a time.',
    flow: {
      metadata: { name: 'Grade assets', start: 'assets' },
      nodes: {
        assets: { type: 'evercycle', params: { operation: 'get-all' }, next: { default: 'grade_each' } },
        grade_each: {
          type: 'foreach',
          params: { items: '${nodes.assets.body.data}', flow: 'flow-8d0c2f4e', input: { asset_id: '${item.id}', position: '${index}' }, concurrency: 5 }
        }
      }
    }
  },
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
