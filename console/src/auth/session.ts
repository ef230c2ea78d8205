import { api, setTokenSource } from '../api/client.js'
import type { Account, TokenReply } from '../api/types.js'
import { createStore } from '../store.js'

/** The signed-in account and its token. The token lives in memory and this tab's sessionStorage only. */
export interface Session {
  token: string
  expiresAt: number
  account: Account
}

const KEY = 'evercycle-console-session'
/** Refresh when this share of the token's life has passed (the API revokes the old token on refresh). */
const REFRESH_AT = 0.75

export const session = createStore<Session | undefined>(undefined)
/** Why the last session ended, shown on the login page ("expired", "signed out"). */
export const endedBecause = createStore<string | undefined>(undefined)

let refreshTimer: ReturnType<typeof setTimeout> | undefined
let issuedAt = Date.now()

function save(s: Session | undefined): void {
  if (s === undefined) sessionStorage.removeItem(KEY)
  else sessionStorage.setItem(KEY, JSON.stringify(s))
}

function schedule(s: Session): void {
  clearTimeout(refreshTimer)
  const life = Math.max(0, s.expiresAt - issuedAt)
  const due = Math.max(5_000, issuedAt + life * REFRESH_AT - Date.now())
  refreshTimer = setTimeout(() => void refresh(), Math.min(due, 2 ** 31 - 1))
}

function start(s: Session): void {
  session.set(s)
  save(s)
  schedule(s)
}

function end(reason: string | undefined): void {
  clearTimeout(refreshTimer)
  save(undefined)
  endedBecause.set(reason)
  session.set(undefined)
}

async function refresh(): Promise<void> {
  const s = session.get()
  if (s === undefined) return
  try {
    const t = await api<TokenReply>('POST', '/api/v1/auth/refresh')
    issuedAt = Date.now()
    start({ ...s, token: t.token, expiresAt: Date.parse(t.expires_at) })
  } catch {
    // a 401 has already ended the session; another failure (the server restarting) tries again shortly
    if (session.get() !== undefined) refreshTimer = setTimeout(() => void refresh(), 10_000)
  }
}

setTokenSource({
  token: () => session.get()?.token,
  expired: () => end('Your session has expired: log in again.')
})

export async function login(email: string, password: string): Promise<void> {
  const t = await api<TokenReply>('POST', '/api/v1/auth/login', { body: { username: email, password }, anonymous: true })
  issuedAt = Date.now()
  const partial = { token: t.token, expiresAt: Date.parse(t.expires_at) }
  session.set(undefined)
  const account = await fetchAccount(t.account_id, t.token)
  endedBecause.set(undefined)
  start({ ...partial, account })
}

/**
 * Logs in again as the signed-in account (a password change revokes every earlier token) without leaving the
 * page: the session keeps its account and only its token changes.
 */
export async function renewWithPassword(email: string, password: string): Promise<void> {
  const s = session.get()
  const t = await api<TokenReply>('POST', '/api/v1/auth/login', { body: { username: email, password }, anonymous: true })
  issuedAt = Date.now()
  if (s === undefined || s.account.id !== t.account_id) return login(email, password)
  start({ ...s, token: t.token, expiresAt: Date.parse(t.expires_at) })
}

async function fetchAccount(id: string, token: string): Promise<Account> {
  const res = await fetch(`/api/v1/accounts/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, cache: 'no-store' })
  if (!res.ok) throw new Error(`Could not read your account (${res.status})`)
  return (await res.json()) as Account
}

export async function logout(): Promise<void> {
  try {
    await api('POST', '/api/v1/auth/logout')
  } finally {
    end('You have logged out.')
  }
}

/** Picks up this tab's session after a reload, if its token has not expired. */
export function restore(): void {
  const raw = sessionStorage.getItem(KEY)
  if (raw === null) return
  try {
    const s = JSON.parse(raw) as Session
    if (typeof s.token !== 'string' || !(s.expiresAt > Date.now() + 5_000)) return save(undefined)
    // the issue time is not kept: refresh soon, at most a quarter of what is left from now
    issuedAt = Date.now() - (s.expiresAt - Date.now())
    start(s)
  } catch {
    save(undefined)
  }
}

/** The account changed (its name, say): keep the session's copy current. */
export function updateAccount(account: Account): void {
  const s = session.get()
  if (s !== undefined && s.account.id === account.id) start({ ...s, account })
}
