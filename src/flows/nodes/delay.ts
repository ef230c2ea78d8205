import { Type } from '@sinclair/typebox'
import { checkDuration } from './checks.js'
import { defineNodeType } from './node-type.js'
import { parseDuration } from '../duration.js'
import { NodeFailure } from '../runtime/node-runtime.js'

export const DelayParamsSchema = Type.Object(
  {
    duration: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })], {
      description: 'Milliseconds, a duration like "5s" or "2m", or a ${...} expression giving one'
    })
  },
  { additionalProperties: false }
)

/** Waits, then passes its input on. */
export const delay = defineNodeType({
  type: 'delay',
  description: 'Waits for a duration',
  params: DelayParamsSchema,
  check: (params) => checkDuration(params.duration, ['duration']),
  run: async (p, ctx) => {
    const raw = p.duration
    const ms = typeof raw === 'number' || typeof raw === 'string' ? parseDuration(raw) : undefined
    if (ms === undefined) throw new NodeFailure(`Invalid delay duration ${JSON.stringify(raw)}`, false)
    // never past the execution deadline: the deadline check then ends the execution cleanly
    const delayed = Math.max(0, Math.min(ms, ctx.remainingMs))
    return { result: { delayed_ms: delayed }, deferMs: delayed }
  }
})
