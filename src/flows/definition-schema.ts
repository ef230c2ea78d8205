import { Type, type Static } from '@sinclair/typebox'
import { DurationSchema } from './duration.js'
import { TriggersSchema, type TriggerSpec } from './triggers/trigger-schema.js'

export { NODE_ID_PATTERN } from './ids.js'

export const RetrySchema = Type.Object(
  {
    /** Attempts in total, the first included: 1 means no retry. */
    max_attempts: Type.Integer({ minimum: 1, maximum: 100 }),
    backoff_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, default: 1000 }))
  },
  { additionalProperties: false }
)

export const NodeSchema = Type.Object(
  {
    type: Type.String({ minLength: 1 }),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** Action name → node id: `default` after success, or the names a condition can produce. */
    next: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
    retry: Type.Optional(RetrySchema),
    timeout: Type.Optional(DurationSchema)
  },
  { additionalProperties: false }
)

export const MetadataSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    start: Type.Optional(Type.String({ minLength: 1 }))
  },
  { additionalProperties: false }
)

/** The YAML document as written. Unknown keys are errors: a typo like `nxt:` must not be silently ignored. */
export const FlowDefinitionSchema = Type.Object(
  {
    metadata: MetadataSchema,
    nodes: Type.Record(Type.String(), NodeSchema, { minProperties: 1 }),
    /** Schedules and inbound webhooks that start the flow (triggers/). */
    triggers: Type.Optional(TriggersSchema)
  },
  { additionalProperties: false }
)

export type FlowDefinition = Static<typeof FlowDefinitionSchema>

/** A node as the engine runs it: defaults applied, timeout in milliseconds. */
export interface NodeSpec {
  type: string
  params: Record<string, unknown>
  next: Record<string, string>
  retry?: { max_attempts: number; backoff_ms: number }
  timeout_ms?: number
}

/** A validated flow, stored with every revision: what the engine executes. */
export interface FlowSpec {
  metadata: Static<typeof MetadataSchema>
  /** The resolved start node id. */
  start: string
  nodes: Record<string, NodeSpec>
  /** Absent in specs saved before triggers existed. */
  triggers?: TriggerSpec[]
}
