import type { Config } from '../config.js'
import { isDomainError } from '../errors.js'
import { EvercycleClient, type UpstreamRequest, type UpstreamResponse } from '../evercycle/client.js'
import { credentialsSource } from '../evercycle/credentials.js'
import type { ListedOperation } from '../evercycle/operation-listing.js'
import type { Credentials } from '../evercycle/token-manager.js'
import type { Backend, CallRequest, CallResult, OperationInfo, SignInResult, SignInState } from './backend.js'
import { CliError, usageError } from './cli-error.js'
import { infoFromListing } from './operation-info.js'
import { sessionCookieChange, type GatewaySessionFile } from './gateway-session.js'
import { envelopeFrom, readText } from './read-body.js'

export interface GatewayTarget {
  url: string
  apiKey: string | undefined
  /** Where a gateway session's cookie is kept between commands. */
  sessions: GatewaySessionFile
}

/**
 * Through a running gateway: `POST /api/auth`, `GET /api/list`, `ANY /api/<operation>` (query for GET, JSON
 * body otherwise). The gateway keeps the Evercycle tokens; the CLI never sees them. Who the calls run as is
 * the gateway's business: with an API key (`x-api-key`) its service identity; without one, the session
 * `evercycle auth` started (GATEWAY_AUTH=session), whose cookie the CLI keeps and sends back. Same undici
 * client as the direct mode, pointed at the gateway.
 */
export class GatewayBackend implements Backend {
  readonly mode = 'gateway'
  readonly target: string
  private readonly client: EvercycleClient
  private listed: Promise<ListedOperation[]> | undefined

  constructor(
    private readonly config: Config,
    private readonly gateway: GatewayTarget
  ) {
    let url: URL
    try {
      url = new URL(gateway.url)
    } catch {
      throw usageError(`--gateway must be an http(s) URL, got ${JSON.stringify(gateway.url)}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError('--gateway must be an http(s) URL')
    this.target = url.href.replace(/\/$/, '')
    // the gateway may itself wait the full upstream timeout before answering
    const timeoutMs = config.evercycle.timeoutMs + 10_000
    this.client = new EvercycleClient({ baseUrl: this.target, timeoutMs, connections: 4 })
  }

  async signIn(credentials: Credentials): Promise<SignInResult> {
    const res = await this.send({ method: 'POST', path: '/api/auth', body: JSON.stringify(credentials) })
    const session = sessionCookieChange(res.headers['set-cookie'])?.kind === 'set'
    const reply = await this.json<{ expires_at?: unknown }>(res)
    return {
      expiresAt: typeof reply.expires_at === 'string' ? reply.expires_at : undefined,
      kind: session ? 'gateway-session' : 'gateway-service',
      storedIn: this.target,
      ...(session ? { sessionFile: this.gateway.sessions.file } : {})
    }
  }

  async ensureSignedIn(): Promise<SignInState> {
    if (this.gateway.apiKey === undefined && (await this.gateway.sessions.get(this.target)) !== undefined) return 'gateway-session'
    const res = await this.send({ method: 'GET', path: '/api/ready' })
    const text = await readText(res)
    // a gateway without the readiness route is left to sign itself in on the first call
    if ((res.statusCode >= 200 && res.statusCode < 300) || res.statusCode === 404) return 'gateway-ready'
    const ec = this.config.evercycle
    const credentials = await credentialsSource(ec.username, ec.password, ec.configDir)()
    if (credentials === undefined) {
      const reason = messageOf(text) ?? `answered ${res.statusCode}`
      throw new CliError('unauthorized', `The gateway is not signed in to Evercycle (${reason}): run \`evercycle auth --gateway ${this.target}\``, null, 401)
    }
    const started = await this.signIn(credentials)
    return started.kind === 'gateway-session' && this.gateway.apiKey === undefined ? 'gateway-session' : 'gateway-signed-in'
  }

  listing(): Promise<ListedOperation[]> {
    this.listed ??= (async () => {
      const res = await this.send({ method: 'GET', path: '/api/list' })
      const reply = await this.json<{ apis?: unknown }>(res)
      if (!Array.isArray(reply.apis)) throw new CliError('upstream_invalid_response', 'The gateway answered /api/list without "apis"', null, 502)
      // an entry whose method this CLI does not know cannot be called: leave it out of both views
      return (reply.apis as ListedOperation[]).filter((entry) => infoFromListing(entry) !== undefined)
    })()
    return this.listed
  }

  async operations(): Promise<OperationInfo[]> {
    return (await this.listing()).map(infoFromListing).filter((i): i is OperationInfo => i !== undefined)
  }

  async call(request: CallRequest, signal?: AbortSignal): Promise<CallResult> {
    const ops = await this.operations()
    const op = ops.find((o) => o.name === request.operation)
    if (op === undefined) {
      throw new CliError('not_found', `Unknown operation "${request.operation}" (evercycle list shows them)`, { known: ops.map((o) => o.name) }, 404)
    }
    if (request.body !== undefined && !op.hasBody) throw usageError(`${op.name} is a ${op.method} operation: it takes no body`)
    if (request.headers !== undefined && Object.keys(request.headers).length > 0) {
      throw usageError('Through a gateway, per-call headers are not forwarded: the gateway sends its own')
    }
    const query: Record<string, string | string[]> = { ...request.query }
    const body: Record<string, unknown> = { ...request.body }
    for (const [name, value] of Object.entries(request.pathParams)) {
      const param = op.pathParams.find((p) => p.name === name)
      if (param === undefined) {
        throw usageError(`${op.name} has no path parameter "${name}"`, { path: op.path, path_params: op.pathParams.map((p) => p.name) })
      }
      if (param.in === 'query') query[name] = value
      else body[name] = value
    }
    const res = await this.send(
      { method: op.method, path: `/api/${encodeURIComponent(op.name)}`, query, body: op.hasBody ? JSON.stringify(body) : undefined, signal },
      true
    )
    return { statusCode: res.statusCode, envelope: await envelopeFrom(res) }
  }

  async close(): Promise<void> {
    await this.client.close()
  }

  /** One request to the gateway; with `okOnly` a non-2xx answer becomes the gateway's own error. */
  private async send(req: UpstreamRequest, okOnly = false): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { ...req.headers }
    if (this.gateway.apiKey !== undefined) {
      headers['x-api-key'] = this.gateway.apiKey
    } else {
      const cookie = await this.gateway.sessions.get(this.target)
      if (cookie !== undefined) headers.cookie = cookie
    }
    let res: UpstreamResponse
    try {
      res = await this.client.request({ ...req, headers })
    } catch (err) {
      // the shared client words its transport errors for Evercycle; here the gateway is the far end
      if (isDomainError(err) && err.code === 'upstream_timeout') {
        throw new CliError('upstream_timeout', `The gateway at ${this.target} did not answer in time`, err.details ?? null, 504)
      }
      if (isDomainError(err)) throw new CliError(err.code, `The gateway at ${this.target} is unreachable`, err.details ?? null, 502)
      throw err
    }
    // the gateway sets the cookie on sign-in and clears it when the session ends
    const change = sessionCookieChange(res.headers['set-cookie'])
    if (change?.kind === 'set') await this.gateway.sessions.set(this.target, change.cookie, change.expiresAt)
    else if (change?.kind === 'cleared') await this.gateway.sessions.delete(this.target)
    if (okOnly && (res.statusCode < 200 || res.statusCode >= 300)) throw await gatewayError(res, this.target)
    return res
  }

  private async json<T>(res: UpstreamResponse): Promise<T> {
    if (res.statusCode < 200 || res.statusCode >= 300) throw await gatewayError(res, this.target)
    const text = await readText(res, 16 * 1024 * 1024)
    try {
      return JSON.parse(text) as T
    } catch {
      throw new CliError('upstream_invalid_response', `The gateway answered ${res.statusCode} with malformed JSON`, null, 502)
    }
  }
}

function messageOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { message?: unknown }
    return typeof parsed.message === 'string' ? parsed.message : undefined
  } catch {
    return undefined
  }
}

/**
 * The gateway's error reply, kept as it sent it (its "POST /api/auth first" said the CLI's way); anything else (a
 * proxy's HTML page) is described.
 */
async function gatewayError(res: UpstreamResponse, target: string): Promise<CliError> {
  const text = await readText(res)
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } }
    const e = parsed.error
    if (typeof e?.code === 'string' && typeof e.message === 'string') {
      const message = e.message.replace(/POST \/api\/auth first$/, `run \`evercycle auth --gateway ${target}\` first`)
      return new CliError(e.code, message, e.details ?? null, res.statusCode)
    }
    if (typeof parsed.message === 'string') return new CliError('upstream_error', parsed.message, { gateway_status: res.statusCode }, res.statusCode)
  } catch {
    // not JSON: described below
  }
  return new CliError('upstream_invalid_response', `The gateway answered ${res.statusCode} without a JSON error`, {
    gateway_status: res.statusCode,
    body: text.slice(0, 500)
  }, res.statusCode)
}
