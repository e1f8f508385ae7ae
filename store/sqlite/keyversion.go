package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// versionConn is the connection KeyVersion asks: PRAGMA data_version is
// per connection, and changes when any other connection (of this process
// or another) commits.
type versionConn struct {
	mu   sync.Mutex
	conn *sql.Conn
}

// KeyVersion implements auth.KeyVersioner: the result changes after any
// commit to the database by any connection, so a key record read after an
// earlier KeyVersion call is current as long as KeyVersion still returns
// the same number. (Audit appends change it too; that only costs cache
// hits.)
func (s *Store) KeyVersion(ctx context.Context) (uint64, error) {
	vc := &s.version
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.conn == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return 0, fmt.Errorf("key version: %w", err)
		}
		vc.conn = c
	}
	var v uint64
	if err := vc.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		vc.conn.Close()
		vc.conn = nil
		return 0, fmt.Errorf("key version: %w", err)
	}
	return v, nil
}

func (vc *versionConn) close() {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.conn != nil {
		vc.conn.Close()
		vc.conn = nil
	}
}
