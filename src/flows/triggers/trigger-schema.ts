import { Type, type Static } from '@sinclair/typebox'
import { NODE_ID_PATTERN } from '../ids.js'

/** What a schedule does with the ticks it missed while no replica ran (or late beyond the grace period). */
export const CATCH_UP = ['skip', 'once', 'all'] as const
export type CatchUp = (typeof CATCH_UP)[number]
/** `catch_up: all` runs at most this many missed ticks: the latest ones, oldest first. */
export const MAX_CATCH_UP_TICKS = 100
/** Triggers one flow may define. */
export const MAX_TRIGGERS = 20

const TriggerId = Type.String({
  pattern: NODE_ID_PATTERN.source,
  description: 'Unique within the flow: letters, digits, _ and -, starting with a letter or _ (at most 64)'
})
const Enabled = Type.Boolean({
  description: 'Whether the trigger starts enabled (default true); applied when the trigger is created or this value changes. PATCH .../triggers/{id} pauses and resumes it without a new version'
})

export const ScheduleTriggerSchema = Type.Object(
  {
    id: TriggerId,
    type: Type.Literal('schedule'),
    cron: Type.String({ minLength: 1, maxLength: 200, description: '5 fields (minute hour day month weekday), or 6 with seconds first' }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Paris (default UTC)' })),
    catch_up: Type.Optional(
      Type.Union(CATCH_UP.map((c) => Type.Literal(c)), {
        description: 'After downtime: skip runs no missed tick, once (default) runs the latest, all runs each (at most 100, the latest, oldest first)'
      })
    ),
    input: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The execution's input, as written (no expressions)" })),
    enabled: Type.Optional(Enabled)
  },
  { additionalProperties: false }
)

export const WebhookTriggerSchema = Type.Object(
  {
    id: TriggerId,
    type: Type.Literal('webhook'),
    secret: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'A secret reference, "${secrets.NAME}": requests must carry X-FlowRunner-Signature: sha256=<hex HMAC-SHA256 of the raw body>'
      })
    ),
    enabled: Type.Optional(Enabled)
  },
  { additionalProperties: false }
)

/** The list as the document schema sees it; each entry is then checked against its type's schema. */
export const TriggersSchema = Type.Array(Type.Object({ id: Type.Unknown(), type: Type.String() }), { maxItems: MAX_TRIGGERS })

export type ScheduleTriggerDefinition = Static<typeof ScheduleTriggerSchema>
export type WebhookTriggerDefinition = Static<typeof WebhookTriggerSchema>

/** A validated trigger, as stored with the flow's revision and in its trigger row: defaults applied. */
export type TriggerSpec =
  | { id: string; type: 'schedule'; cron: string; timezone: string; catch_up: CatchUp; input: Record<string, unknown>; enabled: boolean }
  | { id: string; type: 'webhook'; /** The secret's key, from `${secrets.KEY}`. */ secret: string | null; enabled: boolean }

export type { TriggeredBy } from '../../store/execution-rows.js'
