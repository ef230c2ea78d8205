-- FlowRunner executions: one row per run, pinned to the flow revision it started with. The engine advances
-- it one node at a time; each step's result, the next node and that step's log lines commit together.
CREATE TABLE executions (
  id            text PRIMARY KEY,
  flow_id       text NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  revision      integer NOT NULL,
  account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status        text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  input         jsonb NOT NULL DEFAULT '{}',
  result        jsonb,
  error         text,
  -- the node that failed, for a failed execution
  node_id       text,
  -- the node to run next (null once finished)
  next_node     text,
  -- attempt number of next_node (1-based), for node-level retries
  attempt       integer NOT NULL DEFAULT 1,
  -- results of completed nodes, by node id
  nodes         jsonb NOT NULL DEFAULT '{}',
  steps         integer NOT NULL DEFAULT 0,
  -- the last node that completed; its result is the execution result
  last_node     text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  completed_at  timestamptz,
  deadline_at   timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX executions_account_idx ON executions (account_id, created_at DESC);
CREATE INDEX executions_flow_idx ON executions (flow_id, created_at DESC);
CREATE INDEX executions_status_idx ON executions (status, completed_at);

CREATE TABLE execution_logs (
  id           bigserial PRIMARY KEY,
  execution_id text NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  ts           timestamptz NOT NULL DEFAULT clock_timestamp(),
  level        text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  -- debug 10, info 20, warn 30, error 40: "this level and above" is a comparison
  severity     smallint NOT NULL,
  message      text NOT NULL,
  node_id      text,
  node_type    text,
  data         jsonb
);
CREATE INDEX execution_logs_execution_idx ON execution_logs (execution_id, id);
