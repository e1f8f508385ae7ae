package auth

import (
	"context"
	"errors"
	"sync"
)

// KeyVersioner is implemented by key stores that can tell cheaply whether
// anything in them may have changed: Version returns a number that differs
// from every earlier result after any commit by anyone (another process
// included). It may also change when nothing about keys did; it must never
// stay the same across a change. The SQLite store implements it with
// PRAGMA data_version.
type KeyVersioner interface {
	KeyVersion(ctx context.Context) (uint64, error)
}

// maxCachedKeys bounds the key cache; when full it is cleared.
const maxCachedKeys = 4096

// keyCache remembers key records (and unknown prefixes) together with the
// store version they were read at. An entry is used only while the store's
// version is unchanged, so a revocation by any process is seen by the next
// request, exactly as without the cache.
type keyCache struct {
	v  KeyVersioner
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	key     *Key // nil: the prefix was not found
	version uint64
}

// lookup returns the key for prefix, from the cache when the store has not
// changed since it was read.
func (c *keyCache) lookup(ctx context.Context, store KeyStore, prefix string) (*Key, error) {
	// Read the version before the key: a change committed after this read
	// bumps the version, so an entry stamped with it is never stale.
	ver, err := c.v.KeyVersion(ctx)
	if err != nil {
		return store.KeyByPrefix(ctx, prefix)
	}
	c.mu.Lock()
	e, ok := c.m[prefix]
	c.mu.Unlock()
	if ok && e.version == ver {
		if e.key == nil {
			return nil, ErrNotFound
		}
		return e.key, nil
	}
	k, err := store.KeyByPrefix(ctx, prefix)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedKeys {
		clear(c.m)
	}
	c.m[prefix] = cachedKey{key: k, version: ver}
	c.mu.Unlock()
	if k == nil {
		return nil, ErrNotFound
	}
	return k, nil
}
