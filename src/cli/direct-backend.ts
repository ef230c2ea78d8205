import type { Config } from '../config.js'
import type { UpstreamBudget } from '../evercycle/upstream/budget.js'
import { createBudget } from '../evercycle/upstream/create-budget.js'
import { isDomainError } from '../errors.js'
import { EvercycleClient } from '../evercycle/client.js'
import { credentialsSource } from '../evercycle/credentials.js'
import { successEnvelope, upstreamError } from '../evercycle/envelope.js'
import { loadEndpoints } from '../evercycle/load-endpoints.js'
import { assertNoPoisonKeys } from '../evercycle/merge-body.js'
import { methodHasBody, type Operation } from '../evercycle/operation.js'
import { OperationCaller } from '../evercycle/operation-caller.js'
import { listOperation, type ListedOperation } from '../evercycle/operation-listing.js'
import { buildRegistry, readOperationConfigs, type Registry } from '../evercycle/registry.js'
import { TokenManager, type Credentials } from '../evercycle/token-manager.js'
import { FileTokenStore, SERVICE_IDENTITY } from '../evercycle/token-store.js'
import { isUsable } from '../evercycle/tokens.js'
import type { Logger } from '../util/logger.js'
import type { Backend, CallRequest, CallResult, OperationInfo, SignInResult, SignInState } from './backend.js'
import { CliError } from './cli-error.js'
import { infoFromOperation } from './operation-info.js'
import { checkInput } from './validate-input.js'

/** Headers the core injects per call or derives itself; a user-supplied one would be ignored or harmful. */
const MANAGED_HEADERS = new Set(['access-token', 'authorization', 'cookie', 'x-api-key', 'content-type', 'content-length', 'host'])

const NOT_SIGNED_IN = 'Not signed in to Evercycle: run `evercycle auth` (or set EVERCYCLE_USERNAME and EVERCYCLE_PASSWORD)'

/**
 * Straight to Evercycle with the gateway's own core: the same client, token manager (tokens in the same
 * auth.properties, renewed single-flight, retried once on a 401), registry and body merge. Registry and token
 * store are opened on first use so `auth` works with a broken config dir and `list` never touches the tokens.
 */
export class DirectBackend implements Backend {
  readonly mode = 'direct'
  readonly target: string
  private readonly client: EvercycleClient
  /** The CLI's own budget in direct mode: the same rules as the gateway's, for this one process. */
  private readonly budget: UpstreamBudget
  private readonly credentials: () => Promise<Credentials | undefined>
  private store: Promise<FileTokenStore> | undefined
  private manager: Promise<TokenManager> | undefined
  private registry: Promise<Registry> | undefined

  constructor(
    private readonly config: Config,
    private readonly log: Logger
  ) {
    const ec = config.evercycle
    this.target = ec.baseUrl
    this.client = new EvercycleClient({ baseUrl: ec.baseUrl, timeoutMs: ec.timeoutMs, connections: ec.connections })
    this.budget = createBudget(ec.budget).budget
    this.credentials = credentialsSource(ec.username, ec.password, ec.configDir)
  }

  async signIn(credentials: Credentials): Promise<SignInResult> {
    const tokens = await this.explained((await this.tokens()).signIn(SERVICE_IDENTITY, credentials), false)
    return { expiresAt: new Date(tokens.expiresAt).toISOString(), kind: 'token-file', storedIn: this.config.evercycle.tokenFile }
  }

  ensureSignedIn(): Promise<SignInState> {
    return this.explained(this.checkSignedIn())
  }

  private async checkSignedIn(): Promise<SignInState> {
    const store = await this.tokenStore()
    const current = await store.get(SERVICE_IDENTITY)
    if (current !== undefined && isUsable(current, this.config.evercycle.refreshSkewMs)) return 'valid'
    const credentials = await this.credentials()
    if (current === undefined && credentials === undefined) throw new CliError('unauthorized', NOT_SIGNED_IN, null, 401)
    const manager = await this.tokens()
    const before = manager.events.signIns
    await manager.getTokens(SERVICE_IDENTITY)
    return manager.events.signIns > before ? 'signed-in' : 'refreshed'
  }

  async operations(): Promise<OperationInfo[]> {
    return (await this.loadRegistry()).list().map(infoFromOperation)
  }

  async listing(): Promise<ListedOperation[]> {
    return (await this.loadRegistry()).list().map(listOperation)
  }

  call(request: CallRequest, signal?: AbortSignal): Promise<CallResult> {
    return this.explained(this.send(request, signal))
  }

  private async send(request: CallRequest, signal: AbortSignal | undefined): Promise<CallResult> {
    const registry = await this.loadRegistry()
    const found = registry.get(request.operation)
    if (found === undefined) {
      throw new CliError('not_found', `Unknown operation "${request.operation}" (evercycle list shows them)`, {
        known: registry.list().map((o) => o.name)
      }, 404)
    }
    const op = withHeaders(found, request.headers)
    const hasBody = methodHasBody(op.method)
    if (request.body !== undefined && !hasBody) {
      throw new CliError('usage_error', `${op.name} is a ${op.method} operation: it takes no body`, null, undefined, 2)
    }
    // before any copy or conversion touches it
    assertNoPoisonKeys(request.body)
    let query: Record<string, unknown> = { ...request.query }
    let body: Record<string, unknown> | undefined = hasBody ? { ...request.body } : undefined
    for (const [name, value] of Object.entries(request.pathParams)) {
      const param = op.pathParams[name]
      if (param === undefined) {
        throw new CliError('usage_error', `${op.name} has no path parameter "${name}"`, {
          path: op.path,
          path_params: Object.keys(op.pathParams)
        }, undefined, 2)
      }
      if (param.from === 'query') query[name] = value
      else if (body !== undefined) body[name] = value
    }
    refuseUnknownQuery(op, request.query)
    query = checkInput(op.querySchema, query, 'query')
    if (body !== undefined && op.bodySchema !== undefined) body = checkInput(op.bodySchema, body, 'body')

    await this.checkSignedIn()
    const caller = new OperationCaller(this.client, await this.tokens(), this.budget)
    const res = await caller.call(op, { query, body }, { signal })
    if (res.statusCode < 200 || res.statusCode >= 300) throw await upstreamError(res)
    const envelope = await successEnvelope(res)
    return { statusCode: envelope.statusCode, envelope }
  }

  /**
   * The core words its errors for gateway clients and leaves URLs out of them (a gateway must not leak its
   * upstream); a CLI user needs to know which URL failed, and that `evercycle auth` is how they sign in.
   * `renewing`: the work may renew the saved tokens (not `auth`, whose refusal is about the password given).
   */
  private async explained<T>(work: Promise<T>, renewing = true): Promise<T> {
    try {
      return await work
    } catch (err) {
      if (!isDomainError(err)) throw err
      const details = (err.details ?? {}) as Record<string, unknown>
      if (err.code === 'upstream_unavailable' && typeof details.reason === 'string') {
        throw new CliError(
          'upstream_unavailable',
          `Evercycle is unreachable at ${this.target} (${details.reason}): set EVERCYCLE_BASE_URL to the Evercycle API's URL ` +
            '(npm run demo prints its simulator\'s), or use --gateway',
          { ...details, url: this.target },
          err.statusCode
        )
      }
      if (err.code === 'upstream_timeout') {
        throw new CliError('upstream_timeout', `Evercycle at ${this.target} did not answer within ${this.config.evercycle.timeoutMs} ms (UPSTREAM_TIMEOUT_MS)`, {
          ...details,
          url: this.target
        }, err.statusCode)
      }
      // with no credentials to sign in with, the core's refusal says "POST /api/auth first", the gateway's way
      if (renewing && err.code === 'unauthorized' && (await this.credentials()) === undefined) {
        throw new CliError('unauthorized', `The saved tokens could not be refreshed. ${NOT_SIGNED_IN}`, err.details ?? null, 401)
      }
      throw err
    }
  }

  async close(): Promise<void> {
    await this.client.close()
    if (this.store !== undefined) await (await this.store).close()
  }

  private tokenStore(): Promise<FileTokenStore> {
    this.store ??= FileTokenStore.open(this.config.evercycle.tokenFile)
    return this.store
  }

  private tokens(): Promise<TokenManager> {
    this.manager ??= this.tokenStore().then(
      (store) =>
        new TokenManager(store, this.client, {
          skewMs: this.config.evercycle.refreshSkewMs,
          signInBackoffMs: this.config.evercycle.signInBackoffMs,
          credentials: this.credentials,
          log: this.log
        })
    )
    return this.manager
  }

  private loadRegistry(): Promise<Registry> {
    this.registry ??= (async () => {
      const [definitions, configs] = await Promise.all([loadEndpoints(), readOperationConfigs(this.config.evercycle.configDir)])
      return buildRegistry(definitions, configs)
    })()
    return this.registry
  }
}

/**
 * An operation whose query schema takes no extra keys (every `endpoints/` operation but `get-all`) refuses an
 * unknown `--query` as a command-line error, where the gateway would drop it silently; `get-all` and operations
 * defined only by a config pass any query through to Evercycle.
 */
function refuseUnknownQuery(op: Operation, query: Record<string, unknown>): void {
  if (op.querySchema.additionalProperties !== false) return
  const known = Object.keys(op.querySchema.properties)
  const unknown = Object.keys(query).filter((name) => !known.includes(name))
  if (unknown.length === 0) return
  const names = unknown.map((name) => `"${name}"`).join(', ')
  // a command-line error (exit 2); 400 is what the history records for a request refused before it went out
  throw new CliError('usage_error', `${op.name} has no query parameter ${names}`, { query_params: known }, 400, 2)
}

function withHeaders(op: Operation, extra: Record<string, string> | undefined): Operation {
  if (extra === undefined || Object.keys(extra).length === 0) return op
  for (const name of Object.keys(extra)) {
    if (MANAGED_HEADERS.has(name.toLowerCase())) {
      throw new CliError('usage_error', `Header "${name}" is managed by the CLI and cannot be set`, null, undefined, 2)
    }
  }
  return { ...op, headers: { ...op.headers, ...extra } }
}
