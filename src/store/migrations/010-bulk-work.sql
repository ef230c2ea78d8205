-- Bulk work: executions that start other executions (a `flow` node's child, a `foreach` node's items), a
-- re-run's link to its original, and `waiting`, the status of an execution that holds no worker while it
-- waits (a delay, a retry back-off, its children).
ALTER TABLE executions DROP CONSTRAINT IF EXISTS executions_status_check;
ALTER TABLE executions ADD CONSTRAINT executions_status_check
  CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'));

ALTER TABLE executions
  -- the execution whose node started this one, the node, the parent's step count at the time (a node visited
  -- again in a loop starts new children) and the item's position (0 for a `flow` node's single child)
  ADD COLUMN parent_id text REFERENCES executions (id) ON DELETE CASCADE,
  ADD COLUMN parent_node text,
  ADD COLUMN parent_step integer,
  ADD COLUMN item_index integer,
  -- an item's child replaced by a newer one for the same item (the node was retried): not counted
  ADD COLUMN superseded boolean NOT NULL DEFAULT false,
  -- nesting depth: 0 for an execution started from the API
  ADD COLUMN depth integer NOT NULL DEFAULT 0,
  -- the execution this one re-runs (no reference: the original may be pruned first)
  ADD COLUMN rerun_of text,
  -- what a waiting execution waits for, and since when: {kind: delay|retry|children, node, since, ...}
  ADD COLUMN waiting jsonb,
  -- children not yet finished, while the execution waits on them
  ADD COLUMN children_pending integer NOT NULL DEFAULT 0;

-- an execution's children in item order
CREATE INDEX executions_parent_idx ON executions (parent_id, parent_node, parent_step, item_index) WHERE parent_id IS NOT NULL;
-- the children not started yet: the next item to start is the first of these, found without walking the
-- started ones (on the index above, a 10,000-item fan-out's last lookups passed 10,000 rows each)
CREATE INDEX executions_unstarted_idx ON executions (parent_id, parent_node, parent_step, item_index)
  WHERE parent_id IS NOT NULL AND status = 'queued' AND job_id IS NULL AND NOT superseded;
