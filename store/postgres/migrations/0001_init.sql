-- Keys: the secret is never stored, only its SHA-256 digest. NULL times
-- mean never.
CREATE TABLE keys (
	id           text        PRIMARY KEY,
	name         text        NOT NULL,
	prefix       text        NOT NULL UNIQUE,
	hash         bytea       NOT NULL,
	key_group    text        NOT NULL DEFAULT '',
	models       text[]      NOT NULL DEFAULT '{}',
	routes       text[]      NOT NULL DEFAULT '{}',
	limits       jsonb       NOT NULL DEFAULT '{}', -- config.LimitSet
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz,
	revoked_at   timestamptz,
	rotated_from text        NOT NULL DEFAULT ''
);

CREATE INDEX keys_newest ON keys (created_at DESC, id DESC);

-- The hash-chained audit log (see package audit): payload is the record's
-- canonical JSON, hashed byte for byte, so it is bytea, not jsonb.
CREATE TABLE audit_log (
	seq       bigint PRIMARY KEY CHECK (seq > 0),
	prev_hash bytea  NOT NULL,
	hash      bytea  NOT NULL,
	payload   bytea  NOT NULL
);
