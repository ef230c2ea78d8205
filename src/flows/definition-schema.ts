import { CloneType, Type, type Static } from '@sinclair/typebox'
import { DurationSchema } from './duration.js'
import { TriggersSchema, type TriggerSpec } from './triggers/trigger-schema.js'

export { NODE_ID_PATTERN } from './ids.js'

export const RetrySchema = Type.Object(
  {
    /** Attempts in total, the first included: 1 means no retry. */
    max_attempts: Type.Integer({ minimum: 1, maximum: 100, description: 'Attempts in all, the first included: 1 means no retry.' }),
    backoff_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3_600_000,
        default: 1000,
        description: 'The wait before the second attempt, in milliseconds; it doubles for each attempt after, with jitter (each wait is 0.5 to 1.5 times the nominal one).'
      })
    )
  },
  {
    additionalProperties: false,
    description:
      'Tries the node again when it fails for a reason that may pass: a network error, a timeout, a 429 or 5xx answer, a child execution that failed. Other failures are final.'
  }
)

export const NodeSchema = Type.Object(
  {
    type: Type.String({ minLength: 1, description: 'The node type, one of those under "Node types" below.' }),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: "The node type's parameters, checked against its schema on save; `${...}` templates in strings are resolved when the node runs." })
    ),
    /** Action name → node id: `default` after success, or the names a condition can produce. */
    next: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description: 'Where to go after this node: action name to node id (see "next actions"). Without a matching entry the execution ends here.'
      })
    ),
    retry: Type.Optional(RetrySchema),
    timeout: Type.Optional(
      Type.Union(DurationSchema.anyOf, {
        description: 'The longest one attempt of this node may run: milliseconds or a duration like "30s" (at most 7 days). When absent, FLOWRUNNER_NODE_TIMEOUT applies.'
      })
    )
  },
  { additionalProperties: false }
)

export const MetadataSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: "The flow's name, shown in lists; the API's `name` unless the save gives another." }),
    description: Type.Optional(Type.String({ maxLength: 2000, description: "What the flow does; the API's `description` unless the save gives another." })),
    version: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'Your own version label, free-form (e.g. "1.2.0"): the API shows it as `version`. The server numbers each save itself (see "Versions").'
      })
    ),
    start: Type.Optional(
      Type.String({ minLength: 1, description: 'The id of the first node. When absent: the node named `start`, else the one node no `next` points to.' })
    )
  },
  { additionalProperties: false, description: "About the flow: its name and description, your version label, and its start node." }
)

/** The YAML document as written. Unknown keys are errors: a typo like `nxt:` must not be silently ignored. */
export const FlowDefinitionSchema = Type.Object(
  {
    metadata: MetadataSchema,
    nodes: Type.Record(Type.String(), NodeSchema, {
      minProperties: 1,
      description: 'The nodes, at least one, by id. An id holds letters, digits, _ and -, starts with a letter or _, and has at most 64 characters.'
    }),
    /** Schedules and inbound webhooks that start the flow (triggers/). */
    triggers: Type.Optional(
      CloneType(TriggersSchema, { description: 'Schedules and inbound webhooks that start the flow (see "triggers").' })
    )
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
