package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
)

// keysVersion is a sidecar file beside the database, <db>.keys-version,
// holding 8 random bytes that every process rewrites after it commits a
// change to the keys table. Reading it costs one pread, where asking SQLite
// (PRAGMA data_version) costs a statement parse per request, and it changes
// only when keys change, not on every audit commit.
//
// A writer replaces the value with a fresh random one after its commit, so
// a reader that read the value before reading a key, and reads the same
// value later, knows no key change committed in between: the value it saw
// was written, at the latest, before that read. (A crash between a commit
// and the rewrite would leave a change unannounced; the command that made
// the change then fails, and the change is announced by the next one.)
type keysVersion struct {
	mu sync.Mutex
	f  *os.File
}

func (kv *keysVersion) open(dbPath string) error {
	f, err := os.OpenFile(dbPath+".keys-version", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("keys version file: %w", err)
	}
	kv.f = f
	var b [8]byte
	if n, _ := f.ReadAt(b[:], 0); n < 8 {
		return kv.bump()
	}
	return nil
}

// bump writes a new random version.
func (kv *keysVersion) bump() error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	if _, err := kv.f.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("announce key change: %w", err)
	}
	return nil
}

func (kv *keysVersion) read() (uint64, error) {
	var b [8]byte
	if _, err := kv.f.ReadAt(b[:], 0); err != nil {
		return 0, fmt.Errorf("key version: %w", err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (kv *keysVersion) close() {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if kv.f != nil {
		kv.f.Close()
		kv.f = nil
	}
}

// KeyVersion implements auth.KeyVersioner: the result changes after any
// key is created or revoked, by this process or another on the same file.
func (s *Store) KeyVersion(context.Context) (uint64, error) {
	return s.version.read()
}
