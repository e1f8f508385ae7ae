-- How far each audit journal file (see audit.Journal) has been shipped
-- into audit_log: a byte offset in the file, moved in the same transaction
-- as the entries it covers, so that every journaled record enters the
-- chain exactly once. The row is deleted after its file.
CREATE TABLE audit_journals (
	name       TEXT    PRIMARY KEY,
	shipped    INTEGER NOT NULL CHECK (shipped > 0),
	updated_at INTEGER NOT NULL -- Unix microseconds
) STRICT;
