-- The upstream budget's rate shared by every replica (used when the gateway runs on PostgreSQL with
-- UPSTREAM_RATE_LIMIT set), one row per Evercycle base URL: a token bucket refilled lazily from the database
-- clock at each take, so replicas with skewed clocks still agree on it; a sliding window over the last takes, so
-- no second-long interval holds more than the rate even after an idle spell (the bucket alone would let its
-- burst and the refill of the same second through together); and the end of an upstream 429's pause, so a
-- replica that missed the cluster's notification still waits it out. UNLOGGED because a bucket is not worth
-- WAL: a crash (or a failover to a standby) only starts it full again.
CREATE UNLOGGED TABLE upstream_budget (
  key          text PRIMARY KEY,
  -- tokens as of updated_at (fractional); the refill since then is added at the next take
  tokens       double precision NOT NULL,
  updated_at   timestamptz NOT NULL,
  -- no call until then (an upstream 429's Retry-After); null when never paused
  paused_until timestamptz,
  -- the times of the last takes (ms since the epoch by the database clock), a ring with one slot per call the
  -- window allows; a take waits until the slot it would overwrite (window_next, 0-based) is a window old. A null
  -- slot is free (never used, or its call was refunded).
  window_times double precision[] NOT NULL DEFAULT '{}',
  window_next  integer NOT NULL DEFAULT 0
);
