import { randomBytes, randomUUID } from 'node:crypto'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { header, pause, readJson } from './http.js'
import { routeResources, seedAssets } from './resources.js'
import type { RateLimit, SimulatorCall, SimulatorCounts, SimulatorOptions, SimulatorSettings } from './types.js'

export type { Asset, RateLimit, SimulatorCall, SimulatorCounts, SimulatorOptions, SimulatorSettings } from './types.js'

/** `callsPerSecond()` keeps this many seconds (a day), oldest dropped first. */
const MAX_SECONDS_KEPT = 86_400

interface Session {
  username: string
  idToken: string
  expiresAt: number
  revoked: boolean
}

export const DEMO_USERNAME = 'demo@evercycle.test'
export const DEMO_PASSWORD = 'demo-password'

/**
 * The Evercycle sandbox: the same contract as api.evercycle.io (sign-in, refresh, assets, pricebook), in
 * memory, on node:http so it costs little when a benchmark drives it. Tests steer it (token TTL, failures,
 * latency, outages, malformed answers) and read its call log to assert exactly what reached "Evercycle".
 */
export class EvercycleSimulator {
  readonly settings: SimulatorSettings
  readonly counts: SimulatorCounts = {
    signIns: 0,
    failedSignIns: 0,
    refreshes: 0,
    failedRefreshes: 0,
    apiCalls: 0,
    unauthorized: 0,
    rateLimited: 0
  }
  calls: SimulatorCall[] = []
  assets = seedAssets()
  readonly requests: Array<Record<string, unknown>> = []
  readonly pricebook = new Map<string, Record<string, unknown>>()
  /** Called when a client (the gateway) abandons a request before the simulator answered it. */
  onRequestClosed: (() => void) | undefined
  private arrivals: Array<() => void> = []
  /** Every token string handed out, so tests can grep logs and replies for them. */
  readonly issued: string[] = []

  private readonly users: Map<string, string>
  private readonly sessions = new Map<string, Session>()
  private readonly refreshTokens = new Map<string, string>()
  private readonly maxLoggedCalls: number
  private readonly clock: () => number
  private readonly initialRateLimit: RateLimit | undefined
  /** API calls that arrived, by whole second of the clock (exact, whatever the call log keeps). */
  private readonly arrivalsPerSecond = new Map<number, number>()
  /** The rate limit's current window: its second and the API calls let through in it. */
  private windowSecond = Number.NaN
  private windowAdmitted = 0
  /** `answer429Next`: the next API calls answered 429 whatever the rate, in order. */
  private forced429: Array<{ count: number; retryAfter: string }> = []
  private readonly server: http.Server
  private readonly sockets = new Set<Socket>()
  private port = 0
  private host = '127.0.0.1'

  constructor(options: SimulatorOptions = {}) {
    this.users = new Map(Object.entries(options.users ?? { [DEMO_USERNAME]: DEMO_PASSWORD }))
    this.settings = {
      tokenTtlMs: options.tokenTtlMs ?? 3600_000,
      latencyMs: options.latencyMs ?? 0,
      failSignIn: false,
      failRefresh: false,
      refreshMode: 'normal',
      bodyMode: 'normal',
      // a copy: a test changing settings.rateLimit in place must not change what reset() restores
      rateLimit: options.rateLimit && { ...options.rateLimit }
    }
    this.initialRateLimit = options.rateLimit
    this.clock = options.clock ?? Date.now
    this.maxLoggedCalls = options.maxLoggedCalls ?? 10_000
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.json(res, 500, { message: (err as Error).message })
        else res.destroy()
      })
    })
    this.server.keepAliveTimeout = 60_000
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  get url(): string {
    return `http://${this.host}:${this.port}`
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.host = host
    this.port = (this.server.address() as AddressInfo).port
    return this.url
  }

  /** Stops accepting connections and cuts open ones: the gateway sees "unreachable". */
  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Comes back on the same port, with its call log, counters, sessions and data. */
  async up(): Promise<void> {
    await this.listen(this.port, this.host)
  }

  /** As `down()`, when listening. `listen(port)` (or `up()`) afterwards serves again, state kept. */
  async close(): Promise<void> {
    if (this.server.listening) await this.down()
  }

  /**
   * The next `count` API calls are answered 429 with this `Retry-After` (seconds or an HTTP-date), whatever the
   * rate limit; they do not use up the rate. Calls queue: `answer429Next(1, '2'); answer429Next(1, '5')`.
   */
  answer429Next(count = 1, retryAfter = '1'): void {
    if (count > 0) this.forced429.push({ count, retryAfter })
  }

  /**
   * API calls that reached the simulator (whatever they were answered: 429s and 401s included; sign-in and
   * refresh excluded), by whole second of arrival: `Math.floor(clock() / 1000)` → count. Exact whatever
   * `maxLoggedCalls` is; the last day is kept; `reset()` clears it.
   */
  callsPerSecond(): Map<number, number> {
    return new Map(this.arrivalsPerSecond)
  }

  /**
   * The most API calls that arrived in one second (as `callsPerSecond()`), over the seconds from the one holding
   * `sinceMs` (counted whole) on; 0 when none.
   */
  maxPerSecond(sinceMs = Number.NEGATIVE_INFINITY): number {
    const first = Math.floor(sinceMs / 1000)
    let max = 0
    for (const [second, n] of this.arrivalsPerSecond) if (second >= first && n > max) max = n
    return max
  }

  /** Every token handed out so far stops working (as if Evercycle's clock moved past their expiry). */
  expireTokens(): void {
    for (const session of this.sessions.values()) session.expiresAt = 0
  }

  /** Access tokens are revoked; refresh tokens still work. */
  revokeAccessTokens(): void {
    for (const session of this.sessions.values()) session.revoked = true
  }

  revokeRefreshTokens(): void {
    this.refreshTokens.clear()
  }

  /** Settings back to normal (`rateLimit` to the constructor's), counters, call log, per-second counts and pending 429s cleared. */
  reset(): void {
    Object.assign(this.settings, {
      failSignIn: false,
      failRefresh: false,
      refreshMode: 'normal',
      bodyMode: 'normal',
      latencyMs: 0,
      rateLimit: this.initialRateLimit && { ...this.initialRateLimit }
    })
    for (const key of Object.keys(this.counts) as Array<keyof SimulatorCounts>) this.counts[key] = 0
    this.calls = []
    this.arrivalsPerSecond.clear()
    this.windowSecond = Number.NaN
    this.windowAdmitted = 0
    this.forced429 = []
  }

  /** Resolves when the next API request arrives (before any latency), for tests that act mid-request. */
  nextRequest(): Promise<void> {
    return new Promise((resolve) => this.arrivals.push(resolve))
  }

  /** Calls whose raw path matches; the convenient assertion for "what reached upstream". */
  callsTo(method: string, path: string | RegExp): SimulatorCall[] {
    return this.calls.filter((c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)))
  }

  /** Signs in directly, as a test fixture would: returns a fresh AuthenticationResult. */
  issueTokens(username = DEMO_USERNAME): { AccessToken: string; IdToken: string; RefreshToken: string; ExpiresIn: number } {
    const { accessToken, idToken, refreshToken, expiresIn } = this.newSession(username)
    return { AccessToken: accessToken, IdToken: idToken, RefreshToken: refreshToken, ExpiresIn: expiresIn }
  }

  private newSession(username: string, refreshToken = `sim-rt-${randomBytes(24).toString('hex')}`) {
    const accessToken = `sim-at-${randomBytes(24).toString('hex')}`
    const expiresAt = Date.now() + this.settings.tokenTtlMs
    const claims = { sub: username, exp: Math.floor(expiresAt / 1000), jti: randomUUID() }
    const idToken = [
      Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
      Buffer.from(JSON.stringify(claims)).toString('base64url'),
      randomBytes(16).toString('base64url')
    ].join('.')
    this.sessions.set(accessToken, { username, idToken, expiresAt, revoked: false })
    this.issued.push(accessToken, idToken, refreshToken)
    this.refreshTokens.set(refreshToken, username)
    return { accessToken, idToken, refreshToken, expiresIn: Math.max(1, Math.round(this.settings.tokenTtlMs / 1000)) }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const rawPath = q === -1 ? target : target.slice(0, q)
    const query = q === -1 ? '' : target.slice(q + 1)
    if (rawPath.startsWith('/__sim/')) return this.control(req, res, rawPath, query)
    const auth = req.method === 'POST' && (rawPath === '/v1/auth/signin' || rawPath === '/v1/auth/refresh')
    // decided on arrival, as a rate limiter in front of the API would; answered after the latency like the rest
    const retryAfter = auth ? undefined : this.admit()

    for (const resolve of this.arrivals.splice(0)) resolve()
    res.once('close', () => {
      if (!res.writableFinished) this.onRequestClosed?.()
    })
    const body = await readJson(req)
    if (this.settings.latencyMs > 0) await pause(this.settings.latencyMs, res)
    if (res.destroyed) return
    const call: SimulatorCall = {
      method: req.method ?? 'GET',
      path: rawPath,
      query,
      status: 0,
      authenticated: false,
      user: undefined,
      requestId: header(req, 'x-request-id'),
      body: body.value,
      at: this.clock()
    }
    if (this.calls.length >= this.maxLoggedCalls) this.calls.shift()
    this.calls.push(call)
    const reply = (status: number, payload: unknown): void => {
      call.status = status
      this.json(res, status, payload)
    }
    if (retryAfter !== undefined) {
      const session = this.authenticate(req)
      call.authenticated = session !== undefined
      call.user = session?.username
      this.counts.rateLimited++
      call.status = 429
      return this.json(res, 429, { message: 'Too Many Requests' }, { 'retry-after': retryAfter })
    }
    if (body.error) return reply(400, { message: 'Malformed JSON body' })

    if (call.method === 'POST' && rawPath === '/v1/auth/signin') return this.signIn(body.value, reply)
    if (call.method === 'POST' && rawPath === '/v1/auth/refresh') return this.refresh(body.value, reply, res)

    const session = this.authenticate(req)
    if (session === undefined) {
      this.counts.unauthorized++
      return reply(401, { message: 'Unauthorized' })
    }
    call.authenticated = true
    call.user = session.username
    this.counts.apiCalls++
    if (this.settings.bodyMode === 'error') return reply(500, { message: 'Internal server error' })
    if (this.settings.bodyMode === 'unavailable') return reply(503, { message: 'Service Unavailable' })
    // no answer: the request stays open until the client gives up (or down()/close() cuts it)
    if (this.settings.bodyMode === 'hang') return
    if (this.settings.bodyMode === 'drop') {
      res.socket?.destroy()
      return
    }
    if (this.settings.bodyMode === 'malformed') {
      call.status = 200
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"assets": [1, 2,')
      return
    }
    if (this.settings.bodyMode === 'html') {
      call.status = 200
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html><body>Maintenance</body></html>')
      return
    }
    if (this.settings.bodyMode === 'stall' || this.settings.bodyMode === 'truncated') {
      call.status = 200
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      res.write('{"assets": [')
      if (this.settings.bodyMode === 'truncated') setTimeout(() => res.socket?.destroy(), 20).unref()
      return
    }
    routeResources(this, call.method, rawPath, new URLSearchParams(query), body.value, reply, res, call)
  }

  /** Counts an arriving API call; the `Retry-After` to answer it 429 with, or undefined to serve it. */
  private admit(): string | undefined {
    const second = Math.floor(this.clock() / 1000)
    const arrived = this.arrivalsPerSecond.get(second)
    if (arrived === undefined && this.arrivalsPerSecond.size >= MAX_SECONDS_KEPT) {
      this.arrivalsPerSecond.delete(this.arrivalsPerSecond.keys().next().value as number)
    }
    this.arrivalsPerSecond.set(second, (arrived ?? 0) + 1)
    const forced = this.forced429[0]
    if (forced !== undefined) {
      if (--forced.count <= 0) this.forced429.shift()
      return forced.retryAfter
    }
    if (second !== this.windowSecond) {
      this.windowSecond = second
      this.windowAdmitted = 0
    }
    const limit = this.settings.rateLimit
    if (limit !== undefined && this.windowAdmitted >= limit.perSecond) return limit.retryAfter ?? '1'
    this.windowAdmitted++
    return undefined
  }

  private signIn(body: unknown, reply: (status: number, payload: unknown) => void): void {
    const { username, password } = (body ?? {}) as { username?: unknown; password?: unknown }
    if (this.settings.failSignIn || typeof username !== 'string' || this.users.get(username) !== password) {
      this.counts.failedSignIns++
      return reply(401, { message: 'Incorrect username or password.' })
    }
    this.counts.signIns++
    const s = this.newSession(username)
    reply(200, {
      AuthenticationResult: { AccessToken: s.accessToken, IdToken: s.idToken, RefreshToken: s.refreshToken, ExpiresIn: s.expiresIn, TokenType: 'Bearer' }
    })
  }

  private refresh(body: unknown, reply: (status: number, payload: unknown) => void, res: ServerResponse): void {
    if (this.settings.refreshMode !== 'normal') {
      this.counts.failedRefreshes++
      if (this.settings.refreshMode === 'error') return reply(500, { message: 'Internal server error' })
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html><body>Maintenance</body></html>')
      return
    }
    const { refreshToken } = (body ?? {}) as { refreshToken?: unknown }
    const username = typeof refreshToken === 'string' ? this.refreshTokens.get(refreshToken) : undefined
    if (this.settings.failRefresh || username === undefined || typeof refreshToken !== 'string') {
      this.counts.failedRefreshes++
      return reply(401, { message: 'Invalid refresh token' })
    }
    this.counts.refreshes++
    const s = this.newSession(username, refreshToken)
    reply(200, { AuthenticationResult: { AccessToken: s.accessToken, IdToken: s.idToken, ExpiresIn: s.expiresIn, TokenType: 'Bearer' } })
  }

  private authenticate(req: IncomingMessage): Session | undefined {
    const accessToken = header(req, 'access-token')
    const idToken = header(req, 'authorization')
    if (accessToken === undefined || idToken === undefined) return undefined
    const session = this.sessions.get(accessToken)
    if (session === undefined || session.revoked || session.idToken !== idToken || session.expiresAt <= Date.now()) return undefined
    return session
  }

  /** Steering over HTTP, for tests and demos that run the simulator in another process. */
  private async control(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    const body = await readJson(req)
    const input = (body.value ?? {}) as Record<string, unknown>
    switch (`${req.method} ${path}`) {
      case 'GET /__sim/calls':
        return this.json(res, 200, { counts: this.counts, calls: this.calls })
      case 'GET /__sim/per-second': {
        // ?since=<ms>: as maxPerSecond(since); the seconds are whole seconds of the simulator's clock
        const since = new URLSearchParams(query).get('since')
        const sinceMs = since === null || since === '' ? Number.NEGATIVE_INFINITY : Number(since)
        return this.json(res, 200, { perSecond: Object.fromEntries(this.arrivalsPerSecond), max: this.maxPerSecond(sinceMs) })
      }
      case 'POST /__sim/settings':
        for (const key of Object.keys(this.settings) as Array<keyof SimulatorSettings>) {
          if (key === 'rateLimit' && input[key] === null) this.settings.rateLimit = undefined
          else if (input[key] !== undefined) (this.settings as unknown as Record<string, unknown>)[key] = input[key]
        }
        return this.json(res, 200, this.settings)
      case 'POST /__sim/answer-429':
        // {count?: number (1), retryAfter?: string ("1")}
        this.answer429Next(
          typeof input.count === 'number' ? input.count : 1,
          typeof input.retryAfter === 'string' ? input.retryAfter : '1'
        )
        return this.json(res, 200, { ok: true })
      case 'POST /__sim/reset':
        this.reset()
        return this.json(res, 200, { ok: true })
      case 'POST /__sim/expire-tokens':
        this.expireTokens()
        return this.json(res, 200, { ok: true })
      case 'POST /__sim/revoke-tokens':
        this.revokeAccessTokens()
        return this.json(res, 200, { ok: true })
      default:
        return this.json(res, 404, { message: 'Unknown control route' })
    }
  }

  private json(res: ServerResponse, status: number, payload: unknown, headers?: Record<string, string>): void {
    const text = JSON.stringify(payload)
    // like many APIs, Evercycle answers with a permissive CORS header; the gateway must not pass it on
    res.writeHead(status, {
      'content-type': this.settings.bodyMode === 'mislabeled' ? 'text/plain' : 'application/json',
      'content-length': Buffer.byteLength(text),
      'access-control-allow-origin': '*',
      ...headers
    })
    res.end(text)
  }
}
