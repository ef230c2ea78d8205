import type { TObject, TSchema } from '@sinclair/typebox'

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export type HttpMethod = (typeof HTTP_METHODS)[number]

/** Where a path-template placeholder takes its value from in the client's request. */
export interface PathParamSource {
  from: 'query' | 'body'
  /** Schema for the value; the registry supplies a safe default (non-empty, no dot segments, no controls). */
  schema?: TSchema
  description?: string
}

/**
 * One Evercycle operation as written in `endpoints/`. Everything the gateway, the CLI and FlowRunner's
 * `evercycle` node need is here; no route code exists per operation.
 */
export interface EndpointDefinition {
  name: string
  method: HttpMethod
  /** Evercycle path template, e.g. `/v1/asset/{id}`. */
  path: string
  description: string
  pathParams?: Record<string, PathParamSource>
  /** Query schema (path parameters taken from the query are added by the registry). */
  query?: TObject
  /** JSON body schema (path parameters taken from the body are added by the registry). */
  body?: TObject
  defaultBody?: Record<string, unknown>
  defaultQuery?: Record<string, string>
  /** A GET's answers (200 only) cached for `ttl`, then served stale for `stale_while_revalidate` while one refresh runs. */
  cache?: { ttl: string | number; stale_while_revalidate?: string | number }
  /** Operations whose cached answers a successful call of this one makes stale (a write's reads). */
  invalidates?: string[]
}

/** A definition after the registry resolved config overrides and composed its schemas. */
export interface Operation {
  name: string
  method: HttpMethod
  path: string
  description: string
  pathParams: Record<string, PathParamSource & { schema: TSchema; default?: string }>
  querySchema: TObject
  bodySchema: TObject | undefined
  defaultBody: Record<string, unknown>
  defaultQuery: Record<string, string>
  /** Static headers from a config file (never auth headers: those are injected per call). */
  headers: Record<string, string>
  /** Where the definition came from, for error messages and `/api/list`. */
  source: string
  /** Cached answers (GET only), in milliseconds. */
  cache?: { ttlMs: number; staleMs: number }
  invalidates: string[]
}

export function defineEndpoint(def: EndpointDefinition): EndpointDefinition {
  return def
}

export function methodHasBody(method: HttpMethod): boolean {
  return method !== 'GET' && method !== 'DELETE'
}
