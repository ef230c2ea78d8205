import type { Operation } from './operation.js'

export interface ListedParameter {
  name: string
  /** `query` or `body` for a path parameter (where a gateway request carries it), `query` for the rest. */
  in: string
  required: boolean
  description: string
}

/** One entry of the gateway's `GET /api/list` and of `evercycle list --json`. */
export interface ListedOperation {
  name: string
  method: string
  path: string
  description: string
  parameters: ListedParameter[]
}

/**
 * What a client needs to call an operation: its path parameters (required unless the config gives a default),
 * then the query parameters its schema declares. Body fields are not listed: the operation's body schema is in
 * the OpenAPI document.
 */
export function listOperation(op: Operation): ListedOperation {
  return {
    name: op.name,
    method: op.method,
    path: op.path,
    description: op.description,
    parameters: [
      ...Object.entries(op.pathParams).map(([name, p]) => ({
        name,
        in: p.from,
        required: p.default === undefined,
        description: p.description ?? ''
      })),
      ...Object.entries(op.querySchema.properties)
        .filter(([name]) => !(name in op.pathParams))
        .map(([name, schema]) => ({
          name,
          in: 'query',
          required: op.querySchema.required?.includes(name) ?? false,
          description: typeof schema.description === 'string' ? schema.description : ''
        }))
    ]
  }
}
