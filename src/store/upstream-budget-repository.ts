import type { Queryable } from './driver.js'

/** A shared rate's shape: what the replicas sharing it must agree on (each passes its own configuration). */
export interface RateShape {
  /** Tokens added per second. */
  rate: number
  /** Capacity: the most that can be spent at once after an idle spell. */
  burst: number
  /** At most this many takes (an integer >= 1) in any `windowMs`. */
  windowLimit: number
  windowMs: number
}

export interface SharedTake {
  /** 0 when a token was taken; else the ms until one can be (none taken). */
  waitMs: number
  /** Tokens in the bucket by the database's clock, after the take when there was one (fractional). */
  tokens: number
  /** Milliseconds left of an upstream 429's pause, 0 when none. */
  pausedMs: number
  /** Milliseconds until the sliding window has room, 0 when it has. */
  windowMs: number
  /** The take's time in the window (ms since the epoch, database clock), to give it back with a refund. */
  stamp: number | undefined
}

/** Floating-point refills must not leave a caller a femto-token short forever (as in token-bucket.ts). */
const EPSILON = 1e-9

/**
 * The refill and the take in one statement. The row is locked first (`FOR UPDATE`), so concurrent takes from any
 * replica are applied one after the other on its latest version; time is read from the database's clock
 * (`clock_timestamp()`, never the caller's), and `updated_at` never goes back, so every interval is credited
 * exactly once whatever order the readings come in. A take is granted when the bucket holds `1 + reserve`
 * tokens, the window has `1 + reserve` slots a window old (its oldest, and the `reserve`-th after it: the ring
 * is in time order from `window_next`, refunded slots are null, free), and no pause is on; a take not granted writes
 * nothing (the refill is lazy, computed again at the next take). `sized` is false when the ring is not as long
 * as the window's limit (a new row, or a changed rate): nothing is taken, and the caller resizes it.
 *
 * $1 key, $2 rate, $3 burst, $4 tokens needed, $5 window limit, $6 window ms, $7 window slots to leave free.
 */
const TAKE = `
WITH cur AS (
  SELECT key, tokens, updated_at, paused_until, window_times, window_next, clock_timestamp() AS now
    FROM upstream_budget WHERE key = $1 FOR UPDATE
), next AS (
  SELECT key, window_next,
         GREATEST(updated_at, now) AS at,
         (extract(epoch FROM now) * 1000)::float8 AS now_ms,
         LEAST($3::float8, tokens + $2::float8 * GREATEST(0, extract(epoch FROM now - updated_at))::float8) AS tokens,
         GREATEST(0, ceil(extract(epoch FROM paused_until - now) * 1000))::float8 AS paused_ms,
         GREATEST(
           COALESCE(window_times[window_next + 1] + $6::float8 - (extract(epoch FROM now) * 1000)::float8, 0),
           COALESCE(window_times[(window_next + $7::integer) % $5::integer + 1] + $6::float8 - (extract(epoch FROM now) * 1000)::float8, 0),
           0) AS window_ms,
         cardinality(window_times) = $5::integer AS sized
    FROM cur
), taken AS (
  UPDATE upstream_budget AS b
     SET tokens = next.tokens - 1,
         updated_at = next.at,
         window_times[next.window_next + 1] = next.now_ms,
         window_next = (next.window_next + 1) % $5::integer
    FROM next
   WHERE b.key = next.key AND next.sized AND next.paused_ms = 0 AND next.window_ms = 0 AND next.tokens + ${EPSILON} >= $4::float8
  RETURNING b.tokens
)
SELECT (SELECT tokens FROM taken) AS left_after, tokens, paused_ms, window_ms, sized, now_ms FROM next`

interface TakeRow {
  left_after: number | null
  tokens: number
  paused_ms: number
  window_ms: number
  sized: boolean
  now_ms: number
}

/**
 * The upstream rate in the database, one row per key (the Evercycle base URL), so every replica draws on one
 * budget: three replicas together never exceed it. Each take is one statement (one round trip); the row is
 * created full on first use.
 */
export class UpstreamBudgetRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Takes one token when `1 + reserve` are there, the window has room for `1 + reserve` and the bucket is not
   * paused. A reserve the bucket or window could never hold is clamped to its capacity (as the local ones do).
   */
  async take(key: string, shape: RateShape, reserve = 0): Promise<SharedTake> {
    const need = Math.min(1 + Math.max(0, reserve), shape.burst)
    const windowReserve = Math.min(Math.max(0, reserve), shape.windowLimit - 1)
    const params = [key, shape.rate, shape.burst, need, shape.windowLimit, shape.windowMs, windowReserve]
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = (await this.db.query<TakeRow>(TAKE, params)).rows[0]
      if (row === undefined) {
        await this.create(key, shape)
        continue
      }
      if (!row.sized) {
        await this.resize(key, shape.windowLimit)
        continue
      }
      if (row.left_after !== null) return { waitMs: 0, tokens: row.left_after, pausedMs: 0, windowMs: 0, stamp: row.now_ms }
      const refillMs = row.tokens + EPSILON >= need ? 0 : ((need - row.tokens) * 1000) / shape.rate
      const waitMs = Math.max(1, Math.ceil(Math.max(row.paused_ms, refillMs, row.window_ms)))
      return { waitMs, tokens: row.tokens, pausedMs: row.paused_ms, windowMs: row.window_ms, stamp: undefined }
    }
    throw new Error('upstream budget: the row could not be created or resized')
  }

  /**
   * Gives back a token taken for a call that never went; never beyond the capacity. With its `stamp`, the take is
   * also struck from the window: its slot becomes null (free), and when it was the latest take the ring steps
   * back onto it, so the next take reuses it (as the local window's untake); an older one stays a hole until the
   * ring comes round to it, which never lets more through. Without the stamp the window keeps the take until it
   * is a window old.
   */
  async refund(key: string, shape: RateShape, stamp?: number): Promise<void> {
    // no refill first: LEAST(burst, LEAST(burst, t + r·e) + 1) and LEAST(burst, t + 1 + r·e) are the same. The
    // SET expressions all read the row as it was.
    await this.db.query(
      `UPDATE upstream_budget SET tokens = LEAST($2::float8, tokens + 1),
              window_times = CASE WHEN $3::float8 IS NULL THEN window_times ELSE array_replace(window_times, $3::float8, NULL) END,
              window_next = CASE
                WHEN window_times[(window_next + cardinality(window_times) - 1) % NULLIF(cardinality(window_times), 0) + 1] = $3::float8
                THEN (window_next + cardinality(window_times) - 1) % cardinality(window_times)
                ELSE window_next END
        WHERE key = $1`,
      [key, shape.burst, stamp ?? null]
    )
  }

  /**
   * Pauses every take for `ms` from now by the database's clock (an upstream 429's Retry-After). Only ever
   * extends: a shorter pause learnt later must not cut short a longer one asked for earlier.
   */
  async pause(key: string, shape: RateShape, ms: number): Promise<void> {
    await this.db.query(
      `INSERT INTO upstream_budget AS b (key, tokens, updated_at, paused_until, window_times)
       VALUES ($1, $2::float8, clock_timestamp(), clock_timestamp() + $3::float8 * interval '1 millisecond', array_fill(NULL::float8, ARRAY[$4::integer]))
       ON CONFLICT (key) DO UPDATE SET paused_until = GREATEST(b.paused_until, EXCLUDED.paused_until)`,
      [key, shape.burst, Math.max(0, ms), shape.windowLimit]
    )
  }

  /** A full bucket and an empty window, unless another replica created it first. */
  private async create(key: string, shape: RateShape): Promise<void> {
    await this.db.query(
      `INSERT INTO upstream_budget (key, tokens, updated_at, window_times)
       VALUES ($1, $2::float8, clock_timestamp(), array_fill(NULL::float8, ARRAY[$3::integer])) ON CONFLICT (key) DO NOTHING`,
      [key, shape.burst, shape.windowLimit]
    )
  }

  /**
   * A ring of the window's length, empty (a new rate: the takes it held are forgotten, and the bucket still bounds
   * the next second). Replicas configured with different rates would resize it back and forth: they must agree.
   */
  private async resize(key: string, limit: number): Promise<void> {
    await this.db.query(
      `UPDATE upstream_budget SET window_times = array_fill(NULL::float8, ARRAY[$2::integer]), window_next = 0
        WHERE key = $1 AND cardinality(window_times) <> $2::integer`,
      [key, limit]
    )
  }
}
