import { Type } from '@sinclair/typebox'
import { checkDuration } from './checks.js'
import { defineNodeType } from './node-type.js'

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
  check: (params) => checkDuration(params.duration, ['duration'])
})
