-- The model registry (see package artifact/registry). Times are Unix
-- microseconds (UTC); JSON documents are kept as the registry wrote them.

-- Identities: a name bound to a public key (PKIX DER), registered by an
-- administrator. Registry actions are statements signed by these keys.
CREATE TABLE registry_identities (
	name       TEXT    PRIMARY KEY,
	key_id     TEXT    NOT NULL UNIQUE,
	algorithm  TEXT    NOT NULL,
	public_key BLOB    NOT NULL,
	added_by   TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- Model versions; at most one per model is in production.
CREATE TABLE model_versions (
	name      TEXT    NOT NULL,
	version   TEXT    NOT NULL,
	digest    TEXT    NOT NULL,
	files     TEXT    NOT NULL, -- JSON array
	signature TEXT    NOT NULL, -- JSON object
	scan      TEXT    NOT NULL, -- JSON object
	lineage   TEXT    NOT NULL, -- JSON array
	stage     TEXT    NOT NULL CHECK (stage IN ('staging', 'production', 'retired')),
	previous  TEXT    NOT NULL DEFAULT '',
	pushed_by TEXT    NOT NULL REFERENCES registry_identities (name),
	pushed_at INTEGER NOT NULL,
	stage_at  INTEGER NOT NULL,
	PRIMARY KEY (name, version)
) STRICT;

CREATE UNIQUE INDEX model_versions_one_production ON model_versions (name) WHERE stage = 'production';

-- Accepted signed statements: pushes, promotion requests, approvals and
-- rollbacks. The id derives from the statement, so a statement is
-- accepted once; a version has at most one pending request.
CREATE TABLE model_actions (
	seq        INTEGER PRIMARY KEY,
	id         TEXT    NOT NULL UNIQUE,
	kind       TEXT    NOT NULL CHECK (kind IN ('push', 'request', 'approve', 'rollback')),
	name       TEXT    NOT NULL,
	version    TEXT    NOT NULL,
	actor      TEXT    NOT NULL REFERENCES registry_identities (name),
	key_id     TEXT    NOT NULL,
	statement  BLOB    NOT NULL,
	signature  BLOB    NOT NULL,
	request    TEXT    NOT NULL DEFAULT '',
	state      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
) STRICT;

CREATE INDEX model_actions_by_model ON model_actions (name, version, seq);
CREATE UNIQUE INDEX model_actions_one_pending ON model_actions (name, version) WHERE kind = 'request' AND state = 'pending';
