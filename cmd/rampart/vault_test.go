package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/fakevault"
)

// TestModelEncryptVaultCLI encrypts with a KEK held in Vault KV and with a
// Vault Transit key, against the fake Vault.
func TestModelEncryptVaultCLI(t *testing.T) {
	fv := fakevault.New()
	defer fv.Close()
	fv.AddTransitKey("transit", "models")
	fv.Put("secret", "kek", map[string]any{"key": strings.Repeat("cd", 32)})
	fv.UseEnv(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "w.bin")
	plain := strings.Repeat("weights ", 1000)
	for _, kek := range []string{"vault-transit:transit/models", "vault:secret/kek#key"} {
		os.WriteFile(src, []byte(plain), 0o644)
		if out, code := run(t, newRoot(), "", "model", "encrypt", src, "--kek", kek); code != 0 || !strings.Contains(out, kek) {
			t.Fatalf("encrypt with %s: %d %s", kek, code, out)
		}
		os.Remove(src)
		if out, code := run(t, newRoot(), "", "model", "decrypt", src+".enc", "--kek", kek); code != 0 {
			t.Fatalf("decrypt with %s: %d %s", kek, code, out)
		}
		if got, err := os.ReadFile(src); err != nil || string(got) != plain {
			t.Fatalf("round trip with %s: %v", kek, err)
		}
	}
	os.Remove(src)
	fv.AddTransitKey("transit", "other")
	out, code := run(t, newRoot(), "", "model", "decrypt", src+".enc", "--kek", "vault-transit:transit/other")
	if code != 1 {
		t.Fatalf("wrong Transit key: %d %s", code, out)
	}
}
