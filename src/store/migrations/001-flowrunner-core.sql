-- FlowRunner core: accounts, token denylist, login throttling, flows with immutable revisions, secrets.
-- Ids are text made by the application (e.g. flow-<uuid>); times are timestamptz.

CREATE TABLE accounts (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  email         text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'user')),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- the login name: unique whatever its case
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));
CREATE INDEX accounts_role_idx ON accounts (role, created_at);

-- logged-out and refreshed tokens, until they would have expired anyway
CREATE TABLE revoked_tokens (
  jti        text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

-- failed logins per client address and login name, in fixed windows, shared by every replica
CREATE TABLE login_failures (
  key          text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures     integer NOT NULL
);

CREATE TABLE flows (
  id          text PRIMARY KEY,
  account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  version     text,
  tags        jsonb NOT NULL DEFAULT '[]',
  definition  text NOT NULL,
  -- the latest entry in flow_revisions; executions pin (flow_id, revision)
  revision    integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flows_account_idx ON flows (account_id, created_at);
CREATE INDEX flows_tags_idx ON flows USING gin (tags);

-- every saved state of a flow; spec is the validated definition as JSON (with its start node resolved)
CREATE TABLE flow_revisions (
  flow_id     text NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  revision    integer NOT NULL,
  name        text NOT NULL,
  description text NOT NULL,
  version     text,
  tags        jsonb NOT NULL,
  definition  text NOT NULL,
  spec        jsonb NOT NULL,
  author_id   text REFERENCES accounts (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (flow_id, revision)
);

-- revisions are history: a bug that rewrites one should fail loudly, not silently change what ran
CREATE FUNCTION flow_revisions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.flow_id IS DISTINCT FROM OLD.flow_id OR NEW.revision IS DISTINCT FROM OLD.revision
     OR NEW.name IS DISTINCT FROM OLD.name OR NEW.description IS DISTINCT FROM OLD.description
     OR NEW.version IS DISTINCT FROM OLD.version OR NEW.tags IS DISTINCT FROM OLD.tags
     OR NEW.definition IS DISTINCT FROM OLD.definition OR NEW.spec IS DISTINCT FROM OLD.spec
     OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'flow revisions are immutable';
  END IF;
  -- only author_id may change, and only through ON DELETE SET NULL
  RETURN NEW;
END
$$;
CREATE TRIGGER flow_revisions_no_update BEFORE UPDATE ON flow_revisions
  FOR EACH ROW EXECUTE FUNCTION flow_revisions_immutable();

-- values sealed with AES-256-GCM; the account id and key are the associated data
CREATE TABLE secrets (
  account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  key        text NOT NULL,
  key_id     text NOT NULL,
  nonce      bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, key)
);
