-- Keys: the secret is never stored, only its SHA-256 digest. Times are
-- Unix microseconds (UTC); NULL means never.
CREATE TABLE keys (
	id           TEXT    PRIMARY KEY,
	name         TEXT    NOT NULL,
	prefix       TEXT    NOT NULL UNIQUE,
	hash         BLOB    NOT NULL,
	key_group    TEXT    NOT NULL DEFAULT '',
	models       TEXT    NOT NULL DEFAULT '[]', -- JSON array
	routes       TEXT    NOT NULL DEFAULT '[]', -- JSON array
	limits       TEXT    NOT NULL DEFAULT '{}', -- JSON object (config.LimitSet)
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	rotated_from TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX keys_newest ON keys (created_at DESC, id DESC);

-- The hash-chained audit log (see package audit): payload is the record's
-- canonical JSON, hashed byte for byte, so it is kept as a BLOB.
CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY CHECK (seq > 0),
	prev_hash BLOB    NOT NULL,
	hash      BLOB    NOT NULL,
	payload   BLOB    NOT NULL
) STRICT;
