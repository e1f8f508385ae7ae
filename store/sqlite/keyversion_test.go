package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
)

// TestKeyVersionSeesOtherConnections: a commit through another handle on
// the same file (as the CLI would make) changes the version.
func TestKeyVersionSeesOtherConnections(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v1, err := a.KeyVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v2, _ := a.KeyVersion(ctx); v2 != v1 {
		t.Fatalf("version changed without a commit: %d → %d", v1, v2)
	}
	k := &auth.Key{ID: "key_v", Name: "v", Prefix: "rk_vvvvvvvvvvvv", Hash: make([]byte, 32), CreatedAt: time.Now()}
	if err := b.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	v3, _ := a.KeyVersion(ctx)
	if v3 == v1 {
		t.Fatal("a commit by another handle did not change the version")
	}
	// A commit through the same store's other connections counts too.
	if err := a.RevokeKey(ctx, "key_v", time.Now()); err != nil {
		t.Fatal(err)
	}
	if v4, _ := a.KeyVersion(ctx); v4 == v3 {
		t.Fatal("a commit by the store itself did not change the version")
	}
}
