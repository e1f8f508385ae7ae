package vault_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/fakevault"
	"github.com/rampartsec/rampart/secretref"
	"github.com/rampartsec/rampart/secretref/vault"
)

func TestResolveToken(t *testing.T) {
	fv := fakevault.New()
	defer fv.Close()
	fv.Put("secret", "llm/openai", map[string]any{"api_key": "sk-one", "n": 3})
	fv.Put("secret", "llm/openai", map[string]any{"api_key": "sk-two"})
	fv.UseEnv(t)
	ctx := context.Background()

	tests := []struct {
		ref, want, err string
	}{
		{ref: "vault:secret/llm/openai#api_key", want: "sk-two"},
		{ref: "vault:secret/llm/openai?version=1#api_key", want: "sk-one"},
		{ref: "vault:secret/llm/openai?version=9#api_key", err: "secret not found"},
		{ref: "vault:secret/llm/other#api_key", err: "secret not found"},
		{ref: "vault:secret/llm/openai#missing", err: `no field "missing"`},
		{ref: "vault:secret/llm/openai?version=1#n", err: "not a string"},
		{ref: "vault:secret/llm#", err: "no #FIELD"},
	}
	for _, tt := range tests {
		if !secretref.IsReference(tt.ref) {
			t.Fatalf("IsReference(%q) = false", tt.ref)
		}
		s, err := secretref.Resolve(ctx, tt.ref)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Resolve(%q) err = %v, want %q", tt.ref, err, tt.err)
			}
			if err != nil && (strings.Contains(err.Error(), "sk-") || strings.Contains(err.Error(), fakevault.RootToken)) {
				t.Errorf("Resolve(%q) error leaks a secret: %v", tt.ref, err)
			}
			continue
		}
		if err != nil || s.Reveal() != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.ref, s.Reveal(), err, tt.want)
		}
	}

	t.Setenv("VAULT_TOKEN", "wrong-token")
	_, err := secretref.Resolve(ctx, "vault:secret/llm/openai#api_key")
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("bad token: err = %v", err)
	}
}

func TestNoCredentials(t *testing.T) {
	fakevault.ClearEnv(t)
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1")
	_, err := secretref.Resolve(context.Background(), "vault:secret/a#b")
	if err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("VAULT_ROLE_ID", "r")
	_, err = secretref.Resolve(context.Background(), "vault:secret/a#b")
	if err == nil || !strings.Contains(err.Error(), "VAULT_SECRET_ID") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnreachableHonoursContext(t *testing.T) {
	// A closed server: nothing answers at its address.
	fv := fakevault.New()
	fv.Close()
	fv.UseEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := secretref.Resolve(ctx, "vault:secret/a#b")
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestAppRole(t *testing.T) {
	fv := fakevault.New()
	defer fv.Close()
	fv.Put("secret", "k", map[string]any{"v": "value-1"})
	fv.AddAppRole("role-1", "secret-id-1", time.Hour)
	fakevault.ClearEnv(t)
	dir := t.TempDir()
	sidFile := filepath.Join(dir, "sid")
	if err := os.WriteFile(sidFile, []byte("secret-id-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_ADDR", fv.URL)
	t.Setenv("VAULT_ROLE_ID", "role-1")
	t.Setenv("VAULT_SECRET_ID_FILE", sidFile)
	t.Setenv("VAULT_MAX_RETRIES", "0")
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		s, err := secretref.Resolve(ctx, "vault:secret/k#v")
		if err != nil || s.Reveal() != "value-1" {
			t.Fatalf("Resolve = %q, %v", s.Reveal(), err)
		}
	}
	if logins, _, reads := fv.Counts(); logins != 1 || reads != 3 {
		t.Fatalf("logins %d reads %d; want 1 login for 3 reads", logins, reads)
	}
	// A revoked token: the client logs in again on 403 and retries.
	fv.RevokeAll()
	if s, err := secretref.Resolve(ctx, "vault:secret/k#v"); err != nil || s.Reveal() != "value-1" {
		t.Fatalf("after revocation: %q, %v", s.Reveal(), err)
	}
	if logins, _, _ := fv.Counts(); logins != 2 {
		t.Fatalf("logins = %d after revocation, want 2", logins)
	}

	// A wrong secret ID fails without naming it.
	t.Setenv("VAULT_SECRET_ID_FILE", "")
	t.Setenv("VAULT_SECRET_ID", "not-the-secret-id")
	_, err := secretref.Resolve(ctx, "vault:secret/k#v")
	if err == nil || !strings.Contains(err.Error(), "AppRole login") || strings.Contains(err.Error(), "not-the-secret-id") {
		t.Fatalf("wrong secret id: %v", err)
	}
}

func TestAppRoleRenewal(t *testing.T) {
	fv := fakevault.New()
	defer fv.Close()
	fv.Put("secret", "k", map[string]any{"v": "value-1"})
	// A 3-second TTL: renewal is due after 2 s.
	fv.AddAppRole("role-2", "sid-2", 3*time.Second)
	fakevault.ClearEnv(t)
	t.Setenv("VAULT_ADDR", fv.URL)
	t.Setenv("VAULT_MAX_RETRIES", "0")
	c, err := vaultClientForTest(fv.URL, "role-2", "sid-2")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Read(ctx, vault.Ref{Mount: "secret", Path: "k", Field: "v"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if _, err := c.Read(ctx, vault.Ref{Mount: "secret", Path: "k", Field: "v"}); err != nil {
		t.Fatal(err)
	}
	logins, renewals, _ := fv.Counts()
	if logins != 1 || renewals != 1 {
		t.Fatalf("logins %d renewals %d; want 1 and 1", logins, renewals)
	}
	// Past expiry the token is dead: the client logs in again.
	time.Sleep(3100 * time.Millisecond)
	if _, err := c.Read(ctx, vault.Ref{Mount: "secret", Path: "k", Field: "v"}); err != nil {
		t.Fatal(err)
	}
	if logins, _, _ := fv.Counts(); logins != 2 {
		t.Fatalf("logins = %d after expiry, want 2", logins)
	}
}
