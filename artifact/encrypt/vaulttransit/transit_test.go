package vaulttransit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/rampartsec/rampart/artifact/encrypt"
	"github.com/rampartsec/rampart/artifact/encrypt/vaulttransit"
	"github.com/rampartsec/rampart/internal/fakevault"
	"github.com/rampartsec/rampart/secretref/vault"
)

func newClient(t *testing.T, addr string) *vault.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(fakevault.RootToken)
	return vault.NewClient(c, nil)
}

func seal(t *testing.T, kw encrypt.KeyWrapper, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := encrypt.NewWriter(context.Background(), &buf, kw, encrypt.Options{ChunkSize: encrypt.MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(kw encrypt.KeyWrapper, ct []byte) ([]byte, error) {
	r, err := encrypt.NewReader(context.Background(), bytes.NewReader(ct), kw)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = out.ReadFrom(r)
	return out.Bytes(), err
}

func TestTransit(t *testing.T) {
	fv := fakevault.New()
	defer fv.Close()
	fv.AddTransitKey("transit", "models")
	fv.AddTransitKey("transit", "other")
	c := newClient(t, fv.URL)
	kw, err := vaulttransit.New(c, "transit", "models", "")
	if err != nil {
		t.Fatal(err)
	}
	if kw.ID() != "vault-transit:transit/models" {
		t.Fatalf("ID = %q", kw.ID())
	}
	plain := make([]byte, 5000)
	_, _ = rand.Read(plain)
	ct := seal(t, kw, plain)

	t.Run("round trip", func(t *testing.T) {
		got, err := open(kw, ct)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("open: %d bytes, %v", len(got), err)
		}
		r, err := encrypt.NewReader(context.Background(), bytes.NewReader(ct), kw)
		if err != nil || r.KEKID() != "vault-transit:transit/models" {
			t.Fatalf("header KEK id = %v, %v", r, err)
		}
		if !bytes.Contains(ct[:200], []byte("vault:v1:")) {
			t.Fatal("the wrapped key is not Vault's ciphertext")
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		other, _ := vaulttransit.New(c, "transit", "other", "vault-transit:transit/models")
		if _, err := open(other, ct); !errors.Is(err, encrypt.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
	})

	t.Run("missing key", func(t *testing.T) {
		missing, _ := vaulttransit.New(c, "transit", "nope", "")
		if _, err := open(missing, ct); !errors.Is(err, encrypt.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
	})

	// Every byte of the header before the wrapped key is bound: changing
	// the chunk size, the nonce prefix or the KEK id fails authentication.
	for _, tc := range []struct {
		name string
		off  int
	}{{"chunk size", 11}, {"nonce prefix", 14}, {"KEK id", 20}} {
		t.Run("tampered "+tc.name, func(t *testing.T) {
			bad := bytes.Clone(ct)
			bad[tc.off] ^= 0x01
			_, err := open(kw, bad)
			if !errors.Is(err, encrypt.ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
		})
	}

	t.Run("tampered wrapped key", func(t *testing.T) {
		bad := bytes.Clone(ct)
		i := bytes.Index(bad, []byte("vault:v1:")) + 12
		bad[i] ^= 0x01
		if _, err := open(kw, bad); !errors.Is(err, encrypt.ErrAuth) && !errors.Is(err, encrypt.ErrFormat) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
	})

	t.Run("bad token", func(t *testing.T) {
		cfg := api.DefaultConfig()
		cfg.Address = fv.URL
		cfg.MaxRetries = 0
		a, _ := api.NewClient(cfg)
		a.SetToken("bad-token-value")
		bad, _ := vaulttransit.New(vault.NewClient(a, nil), "transit", "models", "")
		_, err := open(bad, ct)
		if err == nil || errors.Is(err, encrypt.ErrAuth) || !strings.Contains(err.Error(), "HTTP 403") || strings.Contains(err.Error(), "bad-token-value") {
			t.Fatalf("err = %v, want a 403 that is not ErrAuth and names no token", err)
		}
	})
}

func TestParse(t *testing.T) {
	fv := fakevault.New()
	defer fv.Close()
	fv.AddTransitKey("transit", "k1")
	fv.UseEnv(t)
	for _, bad := range []string{"vault-transit:", "vault-transit:transit", "vault-transit:/k", "vault-transit:t/../k", "vault-transit:t/k/x", "file:/x"} {
		if _, err := vaulttransit.Parse(bad, ""); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	kw, err := vaulttransit.Parse("vault-transit:transit/k1", "prod-kek")
	if err != nil {
		t.Fatal(err)
	}
	ct := seal(t, kw, []byte("weights"))
	got, err := open(kw, ct)
	if err != nil || string(got) != "weights" {
		t.Fatalf("open = %q, %v", got, err)
	}
	r, _ := encrypt.NewReader(context.Background(), bytes.NewReader(ct), kw)
	if r.KEKID() != "prod-kek" {
		t.Fatalf("KEK id = %q", r.KEKID())
	}
}
