-- Flows that start themselves: schedules and inbound webhooks, and idempotency keys for runs.

-- what started an execution: {type: schedule|webhook, id, tick?}; null for a run through the API
ALTER TABLE executions ADD COLUMN triggered_by jsonb;
-- one execution per schedule tick, whichever replica fires it (the trigger row's lock is the rule; this
-- makes a second firing of a tick fail rather than run)
CREATE UNIQUE INDEX executions_schedule_tick_idx ON executions (flow_id, (triggered_by->>'id'), (triggered_by->>'tick'))
  WHERE triggered_by->>'type' = 'schedule';

-- A flow's triggers as its current version defines them (`definition`), with the state that outlives a
-- version: paused or not, the webhook's id, and for a schedule the next tick not yet fired.
CREATE TABLE flow_triggers (
  flow_id text NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  trigger_id text NOT NULL,
  type text NOT NULL CHECK (type IN ('schedule', 'webhook')),
  definition jsonb NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  hook_id text UNIQUE,
  next_fire_at timestamptz,
  last_fire_at timestamptz,
  last_execution_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (flow_id, trigger_id)
);
-- the scheduler's one query per poll when nothing is due
CREATE INDEX flow_triggers_due_idx ON flow_triggers (next_fire_at) WHERE enabled AND type = 'schedule';

-- The execution the first request with a key created, per flow, for 24 hours. The key row is written first in
-- the transaction that creates the execution, so a concurrent request with the same key waits for it and
-- then finds it; the reference is checked at commit, when the execution exists.
CREATE TABLE idempotency_keys (
  flow_id text NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  key text NOT NULL,
  request_hash text NOT NULL,
  execution_id text NOT NULL REFERENCES executions (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (flow_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
