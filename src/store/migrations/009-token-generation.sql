-- A password change ends every token issued before it: tokens carry the account's generation (claim `gen`,
-- absent = 0) and are accepted only while it matches.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS token_generation integer NOT NULL DEFAULT 0;
