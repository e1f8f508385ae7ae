// Package keyrules holds what every database driver applies to API keys
// alike: validation before insert, and the error for a taken id or prefix
// (re-exported as store.ErrDuplicate).
package keyrules

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/auth"
)

// ErrDuplicate is returned when a key's id or prefix is already taken.
var ErrDuplicate = errors.New("duplicate key")

// Check rejects a key the gateway could never use.
func Check(k *auth.Key) error {
	switch {
	case k == nil:
		return errors.New("create key: nil key")
	case k.ID == "":
		return errors.New("create key: empty id")
	case k.Prefix == "":
		return fmt.Errorf("create key %s: empty prefix", k.ID)
	case len(k.Hash) != sha256.Size:
		return fmt.Errorf("create key %s: hash is %d bytes, want %d (SHA-256)", k.ID, len(k.Hash), sha256.Size)
	}
	return nil
}
