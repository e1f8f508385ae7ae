-- Identity removal and key rotation for the model registry (see package
-- artifact/registry).

-- A removed identity keeps its row (stored actions name it, and its name
-- is never registered again); removed_at is NULL while it is active.
ALTER TABLE registry_identities
	ADD COLUMN removed_at timestamptz,
	ADD COLUMN removed_by text NOT NULL DEFAULT '';

-- Keys rotated out of an identity. A retired key never becomes any
-- identity's key again (the store checks both tables under the registry
-- advisory lock); actions signed with it still verify against it.
CREATE TABLE registry_retired_keys (
	key_id     text        PRIMARY KEY,
	name       text        NOT NULL REFERENCES registry_identities (name),
	algorithm  text        NOT NULL,
	public_key bytea       NOT NULL,
	added_by   text        NOT NULL,
	created_at timestamptz NOT NULL,
	retired_at timestamptz NOT NULL,
	retired_by text        NOT NULL,
	reason     text        NOT NULL DEFAULT ''
);

CREATE INDEX registry_retired_keys_by_name ON registry_retired_keys (name, retired_at);
