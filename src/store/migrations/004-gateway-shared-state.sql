-- Gateway state shared by every replica when the gateway runs on PostgreSQL: Evercycle token sets per
-- identity (sealed with the secrets master key), gateway sessions, and large execution events that do not
-- fit a NOTIFY payload.
CREATE TABLE gateway_tokens (
  identity   text PRIMARY KEY,
  key_id     text NOT NULL,
  nonce      bytea NOT NULL,
  ciphertext bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gateway_sessions (
  -- SHA-256 of the cookie's secret, never the secret itself
  id         text PRIMARY KEY,
  username   text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX gateway_sessions_expires_idx ON gateway_sessions (expires_at);

CREATE TABLE execution_events (
  id         bigserial PRIMARY KEY,
  payload    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_events_created_idx ON execution_events (created_at);
