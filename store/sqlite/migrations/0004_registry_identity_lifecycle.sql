-- Identity removal and key rotation for the model registry (see package
-- artifact/registry). Times are Unix microseconds (UTC).

-- A removed identity keeps its row (stored actions name it, and its name
-- is never registered again); removed_at is 0 while it is active.
ALTER TABLE registry_identities ADD COLUMN removed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE registry_identities ADD COLUMN removed_by TEXT NOT NULL DEFAULT '';

-- Keys rotated out of an identity. A retired key never becomes any
-- identity's key again (the store checks both tables under its write
-- lock); actions signed with it still verify against it.
CREATE TABLE registry_retired_keys (
	key_id     TEXT    PRIMARY KEY,
	name       TEXT    NOT NULL REFERENCES registry_identities (name),
	algorithm  TEXT    NOT NULL,
	public_key BLOB    NOT NULL,
	added_by   TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER NOT NULL,
	retired_by TEXT    NOT NULL,
	reason     TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX registry_retired_keys_by_name ON registry_retired_keys (name, retired_at);
