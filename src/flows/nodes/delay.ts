import { Type } from '@sinclair/typebox'
import { checkDuration } from './checks.js'
import { defineNodeType } from './node-type.js'
import { parseDuration } from '../duration.js'
import { NodeFailure } from '../runtime/node-runtime.js'

export const DelayParamsSchema = Type.Object(
  {
    duration: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })], {
      description:
        'How long to wait: milliseconds, a duration like "500ms", "5s", "2m", "1h" or "1d" (at most 7 days), or a `${...}` template giving one. The wait never goes past the execution\'s deadline.'
    })
  },
  { additionalProperties: false }
)

/** Waits, then passes its input on. */
export const delay = defineNodeType({
  type: 'delay',
  description: "Waits for a duration, then goes on. No worker is held meanwhile: the execution's status is `waiting`.",
  params: DelayParamsSchema,
  result: Type.Object({ delayed_ms: Type.Integer({ description: 'The milliseconds waited: the duration, cut at the execution deadline.' }) }),
  example: {
    summary: 'Waits for the duration the run was given, 30 seconds when it gives none, then checks again.',
    flow: {
      metadata: { name: 'Wait, then poll' },
      nodes: {
        start: { type: 'delay', params: { duration: '${$exists(input.wait) ? input.wait : "30s"}' }, next: { default: 'poll' } },
        poll: { type: 'http.request', params: { url: 'https://api.example.com/jobs/${input.job_id}' } }
      }
    }
  },
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
