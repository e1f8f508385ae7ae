// Package migrate loads a driver's embedded schema migrations: SQL files
// named NNNN_description.sql, numbered from 1 without gaps. Each driver
// applies them itself, one per transaction, under its own lock.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one schema change.
type Migration struct {
	// Version is the file's number; the first migration is 1.
	Version int
	// Name is the file name.
	Name string
	// SQL is the file's content.
	SQL string
}

// Load reads the *.sql files in dir of fsys and returns them in version
// order. It fails on a file that is not named NNNN_description.sql, on a
// duplicate or missing number, and on an empty file.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("load migrations: %s: want a name like 0001_description.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("load migrations: %w", err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("load migrations: %s is empty", name)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	// fs.ReadDir sorts by name; numbers of equal width sort numerically,
	// and the check below catches anything else.
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("load migrations: %s: expected version %d (versions must run 1, 2, 3… without gaps or duplicates)", m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("load migrations: no .sql files in %s", dir)
	}
	return ms, nil
}
