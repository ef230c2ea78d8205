import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME, EvercycleSimulator } from '../../dev/simulator/simulator.js'
import { isDomainError } from '../../src/errors.js'
import { parseAuthProperties } from '../../src/evercycle/auth-properties.js'
import { EvercycleClient } from '../../src/evercycle/client.js'
import { TokenManager } from '../../src/evercycle/token-manager.js'
import { FileTokenStore, SERVICE_IDENTITY, sessionIdentity } from '../../src/evercycle/token-store.js'
import { REFRESH_FAILURES } from '../helpers/gateway.js'
import { tokenSetFrom, type TokenSet } from '../../src/evercycle/tokens.js'
import type { Logger } from '../../src/util/logger.js'

/**
 * The token manager on its own: the real client and file store against the Evercycle simulator on a loopback
 * port, no gateway around it, so each rule (sign in, refresh ahead of expiry, sign in again when a refresh
 * fails, one renewal for everyone waiting) is seen at the manager's own interface.
 */
interface Harness {
  sim: EvercycleSimulator
  store: FileTokenStore
  manager: TokenManager
  tokenFile: string
  warnings: string[]
}

/** The part of tap's Test the harness uses. */
interface Teardown {
  teardown(fn: () => unknown): void
}

async function harness(t: Teardown, options: { credentials?: boolean; signInBackoffMs?: number } = {}): Promise<Harness> {
  const sim = new EvercycleSimulator()
  await sim.listen(0)
  t.teardown(() => sim.close())
  const dir = await mkdtemp(path.join(tmpdir(), 'token-manager-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const tokenFile = path.join(dir, 'auth.properties')
  const store = await FileTokenStore.open(tokenFile)
  t.teardown(() => store.close())
  const client = new EvercycleClient({ baseUrl: sim.url, timeoutMs: 5000, connections: 16 })
  t.teardown(() => client.close())
  const warnings: string[] = []
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (_obj, msg) => void warnings.push(msg ?? ''),
    error: (_obj, msg) => void warnings.push(msg ?? '')
  }
  const manager = new TokenManager(store, client, {
    skewMs: 60_000,
    signInBackoffMs: options.signInBackoffMs ?? 5000,
    credentials: async () => (options.credentials === false ? undefined : { username: DEMO_USERNAME, password: DEMO_PASSWORD }),
    log
  })
  return { sim, store, manager, tokenFile, warnings }
}

/** Real simulator tokens, stored as if obtained an hour ago: they expire in `leftMs`, inside the 60 s skew. */
async function storeExpiring(h: Harness, leftMs: number, identity = SERVICE_IDENTITY): Promise<TokenSet> {
  const tokens = tokenSetFrom(h.sim.issueTokens(), undefined, Date.now() - 3600_000 + leftMs)
  await h.store.set(identity, tokens)
  h.sim.reset()
  return tokens
}

t.test('signs in with the service credentials when it holds no tokens, and keeps them', async (t) => {
  const h = await harness(t)
  const tokens = await h.manager.getTokens()
  t.equal(h.sim.counts.signIns, 1, 'one sign-in reached Evercycle')
  t.equal(h.manager.events.signIns, 1)
  t.ok(h.sim.issued.includes(tokens.accessToken), 'the access token is the one Evercycle issued')
  t.same(await h.store.get(SERVICE_IDENTITY), tokens, 'stored')
  t.same(parseAuthProperties(await readFile(h.tokenFile, 'utf8')), tokens, 'and written to the token file')
  t.equal(await h.manager.getTokens(), tokens, 'the next caller gets the same set')
  t.equal(h.manager.usableNow(), tokens, 'synchronously too')
  t.equal(h.sim.counts.signIns + h.sim.counts.refreshes, 1, 'without going upstream again')
})

t.test('refreshes tokens that are about to expire, before they do', async (t) => {
  const h = await harness(t)
  const old = await storeExpiring(h, 30_000)
  t.equal(h.manager.usableNow(), undefined, 'inside the skew the tokens no longer count as usable')
  const fresh = await h.manager.getTokens()
  t.ok(old.expiresAt > Date.now(), 'the old tokens had not expired yet')
  t.equal(h.sim.counts.refreshes, 1, 'one refresh')
  t.equal(h.sim.counts.signIns, 0, 'no sign-in')
  t.equal(h.manager.events.refreshes, 1)
  t.not(fresh.accessToken, old.accessToken, 'a new access token')
  t.equal(fresh.refreshToken, old.refreshToken, 'the refresh token is kept (a refresh answer carries none)')
  t.ok(fresh.expiresAt > old.expiresAt)
  t.same(await h.store.get(SERVICE_IDENTITY), fresh, 'stored')
})

for (const [mode, what] of REFRESH_FAILURES) {
  t.test(`signs in again when the refresh fails (${what})`, async (t) => {
    const h = await harness(t)
    const old = await storeExpiring(h, 10_000)
    if (mode === 'refused') h.sim.settings.failRefresh = true
    else h.sim.settings.refreshMode = mode
    const fresh = await h.manager.getTokens()
    t.equal(h.sim.counts.failedRefreshes, 1, 'one refresh attempt')
    t.equal(h.sim.counts.signIns, 1, 'then one sign-in')
    t.equal(h.manager.events.failures, 1)
    t.equal(h.manager.events.signIns, 1)
    t.not(fresh.refreshToken, old.refreshToken, 'a new token set, refresh token included')
    t.same(await h.store.get(SERVICE_IDENTITY), fresh)
    t.match(h.warnings, ['evercycle token refresh failed; signing in again'])
  })
}

t.test('does not sign in when Evercycle cannot be reached at all', async (t) => {
  const h = await harness(t)
  const old = await storeExpiring(h, 10_000)
  await h.sim.down()
  const err: unknown = await h.manager.getTokens().catch((e: unknown) => e)
  t.ok(isDomainError(err) && err.code === 'upstream_unavailable', 'the transport failure is the answer')
  t.equal(h.manager.events.signIns, 0, 'no sign-in was attempted')
  t.same(await h.store.get(SERVICE_IDENTITY), old, 'the tokens are kept for when Evercycle is back')
})

t.test('a session whose refresh is refused ends; it never falls back to the service account', async (t) => {
  const h = await harness(t)
  const now = Date.now()
  const identity = sessionIdentity('s1')
  await h.store.createSession({ id: 's1', username: DEMO_USERNAME, createdAt: now, expiresAt: now + 3600_000 }, tokenSetFrom(h.sim.issueTokens()))
  await storeExpiring(h, 10_000, identity)
  h.sim.settings.failRefresh = true
  const err: unknown = await h.manager.getTokens(identity).catch((e: unknown) => e)
  t.ok(isDomainError(err) && err.code === 'unauthorized', 'unauthorized')
  t.equal(h.sim.counts.signIns, 0, 'no sign-in with the service credentials')
  t.equal(await h.store.getSession('s1'), undefined, 'the session is gone')
})

t.test('a refused sign-in backs off: the next caller fails fast without reaching Evercycle', async (t) => {
  const h = await harness(t)
  h.sim.settings.failSignIn = true
  const first: unknown = await h.manager.getTokens().catch((e: unknown) => e)
  t.ok(isDomainError(first) && first.code === 'unauthorized')
  t.equal(h.sim.counts.failedSignIns, 1)
  h.sim.settings.failSignIn = false
  const second: unknown = await h.manager.getTokens().catch((e: unknown) => e)
  t.ok(isDomainError(second) && second.code === 'unauthorized' && second.headers?.['retry-after'] !== undefined, 'refused with a Retry-After')
  t.equal(h.sim.counts.failedSignIns + h.sim.counts.signIns, 1, 'nothing more reached Evercycle')
})

t.test('without credentials or tokens it refuses without contacting Evercycle', async (t) => {
  const h = await harness(t, { credentials: false })
  const err: unknown = await h.manager.getTokens().catch((e: unknown) => e)
  t.ok(isDomainError(err) && err.code === 'unauthorized')
  t.equal(h.sim.calls.length, 0)
})

t.test('one refresh however many callers wait for it', async (t) => {
  const h = await harness(t)
  await storeExpiring(h, 30_000)
  // the refresh stays in flight long enough for every caller to find it
  h.sim.settings.latencyMs = 50
  const all = await Promise.all(Array.from({ length: 100 }, () => h.manager.getTokens()))
  t.equal(h.sim.counts.refreshes, 1, 'one refresh reached Evercycle')
  t.equal(h.sim.counts.signIns, 0)
  t.equal(new Set(all).size, 1, 'every caller got the same set')
  t.equal(h.manager.events.refreshes, 1)
  t.equal(h.manager.events.waiters, 99, 'the other 99 joined the renewal in flight')
})

t.test('one sign-in however many callers wait for it, even when the refresh before it failed', async (t) => {
  const h = await harness(t)
  await storeExpiring(h, 30_000)
  h.sim.settings.failRefresh = true
  h.sim.settings.latencyMs = 20
  const all = await Promise.all(Array.from({ length: 50 }, () => h.manager.getTokens()))
  t.equal(h.sim.counts.failedRefreshes, 1)
  t.equal(h.sim.counts.signIns, 1)
  t.equal(new Set(all.map((s) => s.accessToken)).size, 1)
})
