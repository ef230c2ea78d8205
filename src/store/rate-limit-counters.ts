import type { Queryable } from './driver.js'

export interface WindowHit {
  /** Hits in the current window, this one included. */
  hits: number
  /** Milliseconds until the window ends. */
  ttlMs: number
}

/**
 * Fixed-window hit counters in the database, so every replica counts against the same limit. One statement
 * per hit: the upsert takes the row lock, so concurrent hits from any replica are counted exactly, and the
 * window's end comes from the database clock, so replicas with skewed clocks still agree on it.
 */
export class RateLimitCounters {
  constructor(private readonly db: () => Queryable) {}

  async hit(key: string, windowMs: number): Promise<WindowHit> {
    const { rows } = await this.db().query<{ hits: number; ttl_ms: number }>(
      `INSERT INTO rate_limit_counters AS c (key, hits, expires_at)
       VALUES ($1, 1, now() + $2::integer * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.expires_at <= now() THEN 1 ELSE c.hits + 1 END,
         expires_at = CASE WHEN c.expires_at <= now() THEN EXCLUDED.expires_at ELSE c.expires_at END
       RETURNING c.hits, GREATEST(0, ceil(extract(epoch FROM c.expires_at - now()) * 1000))::integer AS ttl_ms`,
      [key, Math.max(1, Math.trunc(windowMs))]
    )
    const row = rows[0]
    if (row === undefined) throw new Error('rate-limit upsert returned no row')
    return { hits: row.hits, ttlMs: row.ttl_ms }
  }

  /** Deletes ended windows; returns how many. */
  async sweep(): Promise<number> {
    return (await this.db().query('DELETE FROM rate_limit_counters WHERE expires_at < now()')).rowCount
  }
}

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void

/** What @fastify/rate-limit passes to `child`: the merged route limits and the route itself. */
interface ChildOptions {
  routeInfo?: { method?: unknown; url?: unknown }
}

/**
 * A store class in @fastify/rate-limit's shape (`new Store(options)`, `incr`, `child`) over the shared
 * counters. Each route's store prefixes its keys with the route, as the plugin's own Redis store does, so
 * limits of different routes never share a counter.
 */
export function sharedRateLimitStore(counters: RateLimitCounters): new (options: object) => SharedRateLimitStore {
  return class extends SharedRateLimitStore {
    constructor() {
      super(counters, 'global')
    }
  }
}

export class SharedRateLimitStore {
  constructor(
    private readonly counters: RateLimitCounters,
    private readonly prefix: string
  ) {}

  incr(key: string, callback: IncrCallback, timeWindow?: number): void {
    this.counters.hit(`${this.prefix}|${key}`, timeWindow ?? 60_000).then(
      (hit) => callback(null, { current: hit.hits, ttl: hit.ttlMs }),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)))
    )
  }

  child(options: object): SharedRateLimitStore {
    // typed by the plugin as the route's options; at run time they are the merged limits plus `routeInfo`
    const route = (options as ChildOptions).routeInfo
    const name = `${String(route?.method ?? '')} ${String(route?.url ?? '')}`.trim()
    return new SharedRateLimitStore(this.counters, name === '' ? this.prefix : name)
  }
}
