package auth

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzParsePrefix checks that ParsePrefix never panics, accepts exactly the
// documented shape, and that whatever it accepts is a prefix of its input.
func FuzzParsePrefix(f *testing.F) {
	key, _, _, err := Generate()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		key, key[:len(key)-1], key + "x", "", "rk_", "rk__", "rk_" + strings.Repeat("A", 53),
		strings.Replace(key, "_", "-", 2), "sk-proj-abc", "eyJhbGciOiJub25lIn0.e30.", "rk_\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefix, ok := ParsePrefix(s)
		if !ok {
			if prefix != "" {
				t.Fatalf("rejected %q but returned prefix %q", s, prefix)
			}
			return
		}
		if len(s) != KeyLength || !strings.HasPrefix(s, prefix) || len(prefix) != prefixLen || !strings.HasPrefix(s, "rk_") || s[prefixLen] != '_' {
			t.Fatalf("accepted malformed %q (prefix %q)", s, prefix)
		}
		for i := 3; i < len(s); i++ {
			if i != prefixLen && !isBase62(s[i]) {
				t.Fatalf("accepted %q with %q at %d", s, s[i], i)
			}
		}
		if hashKey(s) != sha256.Sum256([]byte(s)) {
			t.Fatal("hashKey differs from SHA-256")
		}
	})
}

// FuzzCredential checks the header parser: no panic, and a credential it
// returns is non-empty, trimmed, and taken from the header that should
// carry it.
func FuzzCredential(f *testing.F) {
	for _, s := range [][2]string{
		{"Bearer rk_abc", ""}, {"", "rk_abc"}, {"bearer  x ", ""}, {"Basic abc", ""}, {"Bearer", ""},
		{"Bearer\tx", ""}, {"", " "}, {"BEARER x", "y"}, {"Bearer x y", ""}, {"", ""}, {"Bearerx", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, authz, apiKey string) {
		h := http.Header{}
		if authz != "" {
			h["Authorization"] = []string{authz}
		}
		if apiKey != "" {
			h["Api-Key"] = []string{apiKey}
		}
		cred, err := credential(h)
		if err != nil {
			if cred != "" {
				t.Fatalf("credential %q returned with error %v", cred, err)
			}
			if !errors.Is(err, ErrMissingCredential) && !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("unexpected error kind %v", err)
			}
			if len(authz) >= 8 && strings.Contains(err.Error(), authz) || len(apiKey) >= 8 && strings.Contains(err.Error(), apiKey) {
				t.Fatalf("error %q quotes the header", err)
			}
			return
		}
		if cred == "" || strings.Trim(cred, " \t") != cred {
			t.Fatalf("credential %q is empty or untrimmed", cred)
		}
		src := apiKey
		if authz != "" {
			src = authz
			if !strings.EqualFold(strings.TrimLeft(authz, " \t")[:6], "bearer") {
				t.Fatalf("credential %q from non-Bearer Authorization %q", cred, authz)
			}
		}
		if !strings.HasSuffix(strings.TrimRight(src, " \t"), cred) {
			t.Fatalf("credential %q is not the tail of %q", cred, src)
		}
	})
}
