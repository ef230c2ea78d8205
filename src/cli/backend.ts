import type { Envelope } from '../evercycle/envelope.js'
import type { HttpMethod } from '../evercycle/operation.js'
import type { ListedOperation } from '../evercycle/operation-listing.js'
import type { Credentials } from '../evercycle/token-manager.js'

/** A field the user can fill, with the default the configuration gives it (direct mode only). */
export interface FieldInfo {
  name: string
  description: string
  required: boolean
  default?: unknown
}

export interface PathParamInfo extends FieldInfo {
  /** Where the operation takes the value from in a gateway request. */
  in: 'query' | 'body'
}

/** One operation as the CLI shows and fills it, whichever backend describes it. */
export interface OperationInfo {
  name: string
  method: HttpMethod
  path: string
  description: string
  pathParams: PathParamInfo[]
  queryFields: FieldInfo[]
  bodyFields: FieldInfo[]
  /** Static headers from the operation's config (direct mode; a gateway keeps its own). */
  headers: Record<string, string>
  hasBody: boolean
}

export interface CallRequest {
  operation: string
  /** Path parameters by name; each lands in the query or the body, wherever the operation takes it from. */
  pathParams: Record<string, string>
  query: Record<string, string | string[]>
  body?: Record<string, unknown>
  /** Extra headers for this call (direct mode only; never auth headers). */
  headers?: Record<string, string>
}

export interface CallResult {
  statusCode: number
  /** `{"status":"success","data":...}`, buffered or streamed, exactly as the gateway would answer. */
  envelope: Envelope
}

export type SignInState = 'valid' | 'refreshed' | 'signed-in' | 'gateway-ready' | 'gateway-signed-in' | 'gateway-session'

export interface SignInResult {
  expiresAt: string | undefined
  /**
   * Where the tokens now live: the token file (direct), the gateway's service identity (GATEWAY_AUTH=none), or
   * a gateway session whose cookie the CLI keeps (GATEWAY_AUTH=session).
   */
  kind: 'token-file' | 'gateway-service' | 'gateway-session'
  /** The token file, or the gateway URL. */
  storedIn: string
  /** The file holding the gateway session cookie, for a gateway session. */
  sessionFile?: string
}

/** Straight to Evercycle with the gateway's core, or through a running gateway's HTTP API. */
export interface Backend {
  readonly mode: 'direct' | 'gateway'
  /** Human name of what is called: Evercycle's base URL or the gateway's. */
  readonly target: string
  signIn(credentials: Credentials): Promise<SignInResult>
  /** Makes sure calls will be authenticated, signing in with configured credentials when needed. */
  ensureSignedIn(): Promise<SignInState>
  operations(): Promise<OperationInfo[]>
  /** The operations as the gateway's `GET /api/list` has them (`evercycle list --json`). */
  listing(): Promise<ListedOperation[]>
  /** Resolves with a 2xx answer; rejects with a domain or CLI error otherwise. */
  call(request: CallRequest, signal?: AbortSignal): Promise<CallResult>
  close(): Promise<void>
}
