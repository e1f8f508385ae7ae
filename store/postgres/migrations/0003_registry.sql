-- The model registry (see package artifact/registry). JSON documents are
-- kept as text, byte for byte as the registry wrote them.

-- Identities: a name bound to a public key (PKIX DER), registered by an
-- administrator. Registry actions are statements signed by these keys.
CREATE TABLE registry_identities (
	name       text        PRIMARY KEY,
	key_id     text        NOT NULL UNIQUE,
	algorithm  text        NOT NULL,
	public_key bytea       NOT NULL,
	added_by   text        NOT NULL,
	created_at timestamptz NOT NULL
);

-- Model versions; at most one per model is in production.
CREATE TABLE model_versions (
	name      text        NOT NULL,
	version   text        NOT NULL,
	digest    text        NOT NULL,
	files     text        NOT NULL, -- JSON array
	signature text        NOT NULL, -- JSON object
	scan      text        NOT NULL, -- JSON object
	lineage   text        NOT NULL, -- JSON array
	stage     text        NOT NULL CHECK (stage IN ('staging', 'production', 'retired')),
	previous  text        NOT NULL DEFAULT '',
	pushed_by text        NOT NULL REFERENCES registry_identities (name),
	pushed_at timestamptz NOT NULL,
	stage_at  timestamptz NOT NULL,
	PRIMARY KEY (name, version)
);

CREATE UNIQUE INDEX model_versions_one_production ON model_versions (name) WHERE stage = 'production';

-- Accepted signed statements: pushes, promotion requests, approvals and
-- rollbacks. The id derives from the statement, so a statement is
-- accepted once; a version has at most one pending request.
CREATE TABLE model_actions (
	seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text        NOT NULL UNIQUE,
	kind       text        NOT NULL CHECK (kind IN ('push', 'request', 'approve', 'rollback')),
	name       text        NOT NULL,
	version    text        NOT NULL,
	actor      text        NOT NULL REFERENCES registry_identities (name),
	key_id     text        NOT NULL,
	statement  bytea       NOT NULL,
	signature  bytea       NOT NULL,
	request    text        NOT NULL DEFAULT '',
	state      text        NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
);

CREATE INDEX model_actions_by_model ON model_actions (name, version, seq);
CREATE UNIQUE INDEX model_actions_one_pending ON model_actions (name, version) WHERE kind = 'request' AND state = 'pending';
