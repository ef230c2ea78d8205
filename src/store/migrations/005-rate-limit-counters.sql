-- Rate-limit counters shared by every replica (used when the gateway runs on PostgreSQL): one row per route
-- and client key holding a fixed window that restarts at the first hit after it ended. UNLOGGED because a
-- counter is not worth WAL: a crash (or a failover to a standby) only forgives the current window.
CREATE UNLOGGED TABLE rate_limit_counters (
  key        text PRIMARY KEY,
  hits       integer NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_counters_expires_idx ON rate_limit_counters (expires_at);
