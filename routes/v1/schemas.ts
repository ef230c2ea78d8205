import { Type, type TSchema } from '@sinclair/typebox'
import type { Account } from '../../src/accounts/account-service.js'
import type { Execution } from '../../src/flows/executions-service.js'
import type { Flow, FlowRevision } from '../../src/flows/flow-service.js'
import type { SecretInfo } from '../../src/secrets/secret-service.js'

/** FlowRunner's error shape, per its API reference. */
export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'unauthorized, forbidden, not_found, invalid_request, validation_error, conflict, payload_too_large, rate_limited, invalid_signature, idempotency_key_reused, internal_error' }),
      message: Type.String(),
      details: Type.Unknown({ description: 'e.g. { field, reason }; for flow definitions also line, column and every error' })
    })
  },
  { description: 'Error' }
)

const errorDescriptions: Record<number, string> = {
  400: 'The request was invalid',
  401: 'Authentication is required or failed',
  403: 'The authenticated account lacks permission',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The request or its input is too large',
  422: 'Validation failed: a flow definition, or an Idempotency-Key reused with a different request',
  429: 'Too many requests (failed logins, or a webhook past its rate)'
}

/** Error replies for the given statuses, for a route's `response`. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, { ...ErrorSchema, description: errorDescriptions[s] ?? 'Error' }]))
}

export const MessageSchema = Type.Object({ message: Type.String() })

const Timestamp = Type.String({ format: 'date-time' })

export const MAX_PAGE = 100

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, default: 10, description: `At most ${MAX_PAGE}; larger values are clamped` })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 }))
}

export function page(query: { limit?: number | undefined; offset?: number | undefined }): { limit: number; offset: number } {
  return { limit: Math.min(query.limit ?? 10, MAX_PAGE), offset: query.offset ?? 0 }
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) })

// accounts

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('user')])

export const AccountSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  created_at: Timestamp,
  updated_at: Timestamp
})

export function accountReply(a: Account): typeof AccountSchema.static {
  return { id: a.id, name: a.name, email: a.email, role: a.role, created_at: a.createdAt.toISOString(), updated_at: a.updatedAt.toISOString() }
}

// flows

export const TagsSchema = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })

export const FlowSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  version: Type.Union([Type.String(), Type.Null()], { description: "metadata.version from the definition" }),
  created_at: Timestamp,
  updated_at: Timestamp,
  tags: TagsSchema
})

export const FlowDetailSchema = Type.Object({
  ...FlowSchema.properties,
  definition: Type.String({ description: 'The YAML definition' })
})

export function flowReply(f: Flow): typeof FlowSchema.static {
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    version: f.version,
    created_at: f.createdAt.toISOString(),
    updated_at: f.updatedAt.toISOString(),
    tags: f.tags
  }
}

export function flowDetailReply(f: Flow): typeof FlowDetailSchema.static {
  return { ...flowReply(f), definition: f.definition }
}

export const FlowVersionSchema = Type.Object({
  revision: Type.Integer({ minimum: 1, description: 'Counts saves: 1 for the create, then one per update' }),
  name: Type.String(),
  description: Type.String(),
  version: Type.Union([Type.String(), Type.Null()], { description: 'metadata.version at that save' }),
  tags: TagsSchema,
  author_id: Type.Union([Type.String(), Type.Null()], { description: 'The account that saved it (null once deleted)' }),
  created_at: Timestamp
})

export const FlowVersionDetailSchema = Type.Object({
  ...FlowVersionSchema.properties,
  definition: Type.String()
})

export function versionReply(r: FlowRevision): typeof FlowVersionSchema.static {
  return {
    revision: r.revision,
    name: r.name,
    description: r.description,
    version: r.version,
    tags: r.tags,
    author_id: r.authorId,
    created_at: r.createdAt.toISOString()
  }
}

// executions

export const StatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('waiting'),
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('cancelled')
])

/** What starting an execution answers (a run, a re-run, an inbound webhook). */
export const RunReply = Type.Object({ execution_id: Type.String(), flow_id: Type.String(), status: StatusSchema, created_at: Timestamp })

export function runReply(e: Execution): typeof RunReply.static {
  return { execution_id: e.id, flow_id: e.flowId, status: e.status, created_at: e.createdAt.toISOString() }
}

/** Present on a reply an Idempotency-Key answered with an earlier request's execution. */
export const REPLAYED_HEADER = 'idempotent-replayed'

// secrets

export const SecretSchema = Type.Object({ key: Type.String(), created_at: Timestamp, updated_at: Timestamp })

export function secretReply(s: SecretInfo): typeof SecretSchema.static {
  return { key: s.key, created_at: s.createdAt.toISOString(), updated_at: s.updatedAt.toISOString() }
}

export const TokenSchema = Type.Object({
  token: Type.String(),
  expires_at: Timestamp,
  account_id: Type.String()
})
