import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf } from '../../plugins/flow-auth.js'
import type { TriggerRow } from '../../src/flows/triggers/triggers-service.js'
import { errors, IdParams } from './schemas.js'

const Timestamp = Type.String({ format: 'date-time' })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const TriggerSchema = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('schedule'), Type.Literal('webhook')]),
  enabled: Type.Boolean({ description: 'False while paused' }),
  cron: Nullable(Type.String()),
  timezone: Nullable(Type.String()),
  catch_up: Nullable(Type.Union([Type.Literal('skip'), Type.Literal('once'), Type.Literal('all')])),
  next_fire_at: Nullable(Timestamp),
  last_fire_at: Nullable(Timestamp),
  last_execution_id: Nullable(Type.String()),
  url: Nullable(Type.String({ description: "A webhook's path: POST it to start the flow (no token needed; keep it secret)" }))
})
const TriggerParams = Type.Object({ id: IdParams.properties.id, trigger_id: Type.String({ minLength: 1, maxLength: 64 }) })
const PatchBody = Type.Object({ enabled: Type.Boolean({ description: 'false pauses, true resumes' }) }, { additionalProperties: false })

function triggerReply(t: TriggerRow): typeof TriggerSchema.static {
  const d = t.definition
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null)
  const catchUp = d.catch_up === 'skip' || d.catch_up === 'once' || d.catch_up === 'all' ? d.catch_up : null
  return {
    id: t.triggerId,
    type: t.type,
    enabled: t.enabled,
    cron: t.type === 'schedule' ? text(d.cron) : null,
    timezone: t.type === 'schedule' ? text(d.timezone) : null,
    catch_up: t.type === 'schedule' ? catchUp : null,
    next_fire_at: t.nextFireAt?.toISOString() ?? null,
    last_fire_at: t.lastFireAt?.toISOString() ?? null,
    last_execution_id: t.lastExecutionId,
    url: t.hookId === null ? null : `/api/v1/hooks/${t.hookId}`
  }
}

/** A flow's triggers: list, pause or resume, and rotate a webhook's id. Only the flow's owner and admins see them. */
const triggers: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireSession)

  app.get(
    '/flows/:id/triggers',
    {
      schema: {
        tags: ['flowrunner'],
        summary: "A flow's triggers",
        description: 'Schedules with their next and last fire times, webhooks with their URL.',
        params: IdParams,
        response: { 200: Type.Object({ triggers: Type.Array(TriggerSchema) }), ...errors(401, 404) }
      }
    },
    async (request) => ({ triggers: (await app.triggers.list(principalOf(request), request.params.id)).map(triggerReply) })
  )

  app.patch(
    '/flows/:id/triggers/:trigger_id',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Pause or resume a trigger',
        description: "Without a new version. A resumed schedule fires from its next tick on: the ticks it missed while paused are not caught up.",
        params: TriggerParams,
        body: PatchBody,
        response: { 200: TriggerSchema, ...errors(400, 401, 404) }
      }
    },
    async (request) => triggerReply(await app.triggers.setEnabled(principalOf(request), request.params.id, request.params.trigger_id, request.body.enabled))
  )

  app.post(
    '/flows/:id/triggers/:trigger_id/rotate',
    {
      schema: {
        tags: ['flowrunner'],
        summary: "Give a webhook a new URL",
        description: 'The old URL answers 404 from now on.',
        params: TriggerParams,
        response: { 200: TriggerSchema, ...errors(400, 401, 404) }
      }
    },
    async (request) => triggerReply(await app.triggers.rotate(principalOf(request), request.params.id, request.params.trigger_id))
  )
}

export default triggers
