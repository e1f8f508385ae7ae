package osv

import (
	"context"
	"errors"
	"sync"
)

// Fallback asks Online first and, when it fails (the API is unreachable,
// times out or answers with an error), answers the same batch from Offline
// and remembers why: the scan still reports what the offline database
// knows, and says that the online answer is missing.
type Fallback struct {
	Online  Source
	Offline Source // nil: an Online failure is the batch's error

	mu  sync.Mutex
	err error
}

// QueryBatch implements Source.
func (f *Fallback) QueryBatch(ctx context.Context, pkgs []PackageVersion) ([][]Vuln, error) {
	out, err := f.Online.QueryBatch(ctx, pkgs)
	if err == nil || f.Offline == nil || ctx.Err() != nil {
		return out, err
	}
	f.mu.Lock()
	f.err = errors.Join(f.err, err)
	f.mu.Unlock()
	return f.Offline.QueryBatch(ctx, pkgs)
}

// Err returns the errors of the online queries that were answered offline,
// or nil.
func (f *Fallback) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
