import { parseDuration } from '../../flows/duration.js'

export interface CachedResponse {
  statusCode: number
  headers: Record<string, string>
  body: Buffer
}

export type CacheState = 'fresh' | 'stale'

export interface CacheStats {
  hits: number
  misses: number
  stale: number
  evictions: number
  entries: number
  bytes: number
}

export interface ResponseCacheOptions {
  maxEntries: number
  maxBytes: number
  clock?: () => number
}

interface Stored {
  entry: CachedResponse
  operation: string
  size: number
  freshUntil: number
  staleUntil: number
}

/**
 * What an entry costs against maxBytes: its body, its header names and values, and its key (UTF-8 bytes).
 * Object overhead is left out: the bound is about what answers can make us hold, not exact heap accounting.
 */
export function entrySize(key: string, entry: CachedResponse): number {
  let size = entry.body.byteLength + Buffer.byteLength(key)
  for (const [name, value] of Object.entries(entry.headers)) size += Buffer.byteLength(name) + Buffer.byteLength(value)
  return size
}

/**
 * An LRU over a Map (whose iteration order is insertion order: a hit re-inserts, the first key is the least
 * recently used). Expired entries are dropped when met, or evicted as the least recently used.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Stored>()
  private readonly refreshing = new Set<string>()
  private readonly generations = new Map<string, number>()
  private readonly counters = { hits: 0, misses: 0, stale: 0, evictions: 0 }
  private bytes = 0
  private readonly clock: () => number

  constructor(private readonly options: ResponseCacheOptions) {
    if (!(options.maxEntries >= 1)) throw new RangeError('maxEntries must be >= 1')
    if (!(options.maxBytes >= 1)) throw new RangeError('maxBytes must be >= 1')
    this.clock = options.clock ?? Date.now
  }

  get stats(): CacheStats {
    return { ...this.counters, entries: this.entries.size, bytes: this.bytes }
  }

  get(key: string): { entry: CachedResponse; state: CacheState } | undefined {
    const stored = this.entries.get(key)
    const now = this.clock()
    if (stored === undefined || now >= stored.staleUntil) {
      if (stored !== undefined) this.remove(key, stored)
      this.counters.misses++
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, stored)
    const state: CacheState = now < stored.freshUntil ? 'fresh' : 'stale'
    if (state === 'fresh') this.counters.hits++
    else this.counters.stale++
    return { entry: stored.entry, state }
  }

  /**
   * Stores an answer for `ttlMs`, then serves it stale for `staleMs` more. An entry larger than maxBytes is not
   * stored (and replaces nothing: the older answer for the key is dropped, as it is superseded either way).
   * `generation`, when given, is `generation(operation)` read before the upstream call started: if the operation
   * was invalidated since, the answer may predate the write that invalidated it and is not stored.
   */
  set(key: string, operation: string, entry: CachedResponse, ttlMs: number, staleMs: number, generation?: number): boolean {
    const old = this.entries.get(key)
    if (old !== undefined) this.remove(key, old)
    if (generation !== undefined && generation !== this.generation(operation)) return false
    const size = entrySize(key, entry)
    if (size > this.options.maxBytes || !(ttlMs + staleMs > 0)) return false
    const now = this.clock()
    this.entries.set(key, { entry, operation, size, freshUntil: now + ttlMs, staleUntil: now + ttlMs + staleMs })
    this.bytes += size
    for (const [oldest, stored] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break
      this.remove(oldest, stored)
      this.counters.evictions++
    }
    return true
  }

  /** Drops every entry of `operation` (after a write that changes what it returns); returns how many. */
  invalidate(operation: string): number {
    this.generations.set(operation, this.generation(operation) + 1)
    let count = 0
    for (const [key, stored] of this.entries) {
      if (stored.operation !== operation) continue
      this.remove(key, stored)
      count++
    }
    return count
  }

  /** Bumped by every invalidate(operation): see set(). */
  generation(operation: string): number {
    return this.generations.get(operation) ?? 0
  }

  /** True for exactly one caller per key until endRefresh(key): one background refresh per stale entry. */
  claimRefresh(key: string): boolean {
    if (this.refreshing.has(key)) return false
    this.refreshing.add(key)
    return true
  }

  /** Call in a `finally`: a claim never ended blocks every later refresh of that key. */
  endRefresh(key: string): void {
    this.refreshing.delete(key)
  }

  private remove(key: string, stored: Stored): void {
    this.entries.delete(key)
    this.bytes -= stored.size
  }
}

/**
 * One key per (identity, operation, params), whatever order the params' keys arrive in, at every level. Arrays
 * keep their order (a list's order can mean something). A JSON array rather than a joined string: no identity
 * or operation text can run into the next part and collide with another caller's key.
 */
export function cacheKey(identity: string, operation: string, params: Record<string, unknown>): string {
  return JSON.stringify([identity, operation, params], sortKeys)
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) return value
  // fromEntries defines properties, so a "__proto__" parameter stays a key instead of becoming a prototype.
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

export interface CacheSettings {
  ttlMs: number
  staleMs: number
}

/**
 * An endpoint definition's `cache: {ttl, stale_while_revalidate}`; durations as flows write them ("5s", "2m",
 * or a number of ms). Unknown keys are refused so a misspelt setting does not silently cache without its window.
 */
export function parseCacheSettings(value: unknown): CacheSettings | { error: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'cache must be an object {ttl, stale_while_revalidate?}' }
  const settings = value as Record<string, unknown>
  const unknown = Object.keys(settings).filter((key) => key !== 'ttl' && key !== 'stale_while_revalidate')
  if (unknown.length > 0) return { error: `cache: unknown setting ${unknown.join(', ')} (allowed: ttl, stale_while_revalidate)` }
  const ttlMs = duration(settings.ttl)
  if (ttlMs === undefined || ttlMs === 0) return { error: 'cache.ttl must be a duration above zero, e.g. "5s"' }
  const staleMs = settings.stale_while_revalidate === undefined ? 0 : duration(settings.stale_while_revalidate)
  if (staleMs === undefined) return { error: 'cache.stale_while_revalidate must be a duration, e.g. "30s"' }
  return { ttlMs, staleMs }
}

function duration(value: unknown): number | undefined {
  return typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined
}
