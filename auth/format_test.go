package auth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestGenerate(t *testing.T) {
	if KeyLength != 56 {
		t.Fatalf("KeyLength = %d, want 56", KeyLength)
	}
	seen := map[string]bool{}
	counts := map[byte]int{}
	const n = 2000
	for range n {
		key, prefix, hash, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != KeyLength {
			t.Fatalf("len(%q) = %d", key, len(key))
		}
		got, ok := ParsePrefix(key)
		if !ok || got != prefix || prefix != key[:15] || !strings.HasPrefix(prefix, "rk_") {
			t.Fatalf("ParsePrefix(%q) = %q, %v; Generate said %q", key, got, ok, prefix)
		}
		if sum := sha256.Sum256([]byte(key)); !bytes.Equal(sum[:], hash) {
			t.Fatal("hash is not SHA-256 of the whole key")
		}
		if seen[prefix] {
			t.Fatalf("prefix %q generated twice", prefix)
		}
		seen[prefix] = true
		for i := 16; i < len(key); i++ {
			counts[key[i]]++
		}
	}
	// Every base62 character appears, none far from its share: a biased
	// generator (byte%62 without rejection) over-weights the first 8.
	if len(counts) != 62 {
		t.Fatalf("%d distinct secret characters, want 62", len(counts))
	}
	want := float64(n*secretChars) / 62
	for c, got := range counts {
		if math.Abs(float64(got)-want) > 6*math.Sqrt(want) {
			t.Errorf("character %q: %d occurrences, want about %.0f", c, got, want)
		}
	}
	// 40 base62 characters are at least 230 bits.
	if bits := secretChars * math.Log2(62); bits < 230 {
		t.Fatalf("secret carries %.1f bits", bits)
	}
}

func TestGenerateRandomFailure(t *testing.T) {
	_, _, _, err := generate(iotest.ErrReader(errors.New("entropy exhausted")))
	if err == nil || !strings.Contains(err.Error(), "entropy exhausted") {
		t.Fatalf("err = %v", err)
	}
	_, _, _, err = generate(bytes.NewReader(make([]byte, 10)))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short reader: err = %v", err)
	}
}

func TestParsePrefix(t *testing.T) {
	valid := "rk_AbCdEf012345_" + strings.Repeat("z9", 20)
	tests := []struct {
		name string
		key  string
		want string
		ok   bool
	}{
		{"valid", valid, "rk_AbCdEf012345", true},
		{"empty", "", "", false},
		{"scheme only", "rk_", "", false},
		{"one short", valid[:len(valid)-1], "", false},
		{"one long", valid + "a", "", false},
		{"wrong scheme", "sk_" + valid[3:], "", false},
		{"upper scheme", "RK_" + valid[3:], "", false},
		{"separator missing", valid[:15] + "x" + valid[16:], "", false},
		{"dash in prefix", "rk_AbCdEf-12345_" + valid[16:], "", false},
		{"dash in secret", valid[:20] + "-" + valid[21:], "", false},
		{"underscore in secret", valid[:20] + "_" + valid[21:], "", false},
		{"non-ASCII", valid[:54] + "é", "", false},
		{"NUL", valid[:30] + "\x00" + valid[31:], "", false},
		{"space", valid[:30] + " " + valid[31:], "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParsePrefix(tt.key)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ParsePrefix(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCredential(t *testing.T) {
	tests := []struct {
		name    string
		header  http.Header
		want    string
		wantErr error
	}{
		{"bearer", http.Header{"Authorization": {"Bearer tok"}}, "tok", nil},
		{"lower-case scheme", http.Header{"Authorization": {"bearer tok"}}, "tok", nil},
		{"extra spaces", http.Header{"Authorization": {"  Bearer \t tok  "}}, "tok", nil},
		{"api-key", http.Header{"Api-Key": {"tok"}}, "tok", nil},
		{"api-key trimmed", http.Header{"Api-Key": {" tok "}}, "tok", nil},
		{"authorization wins", http.Header{"Authorization": {"Bearer a"}, "Api-Key": {"b"}}, "a", nil},
		{"none", http.Header{}, "", ErrMissingCredential},
		{"empty authorization", http.Header{"Authorization": {""}}, "", ErrMissingCredential},
		{"bearer without token", http.Header{"Authorization": {"Bearer"}}, "", ErrMissingCredential},
		{"bearer and spaces", http.Header{"Authorization": {"Bearer   "}}, "", ErrMissingCredential},
		{"empty api-key", http.Header{"Api-Key": {""}}, "", ErrMissingCredential},
		{"basic", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "", ErrInvalidCredential},
		{"bearer glued", http.Header{"Authorization": {"Bearertok"}}, "", ErrInvalidCredential},
		{"raw token", http.Header{"Authorization": {"rk_abc"}}, "", ErrInvalidCredential},
		{"two authorization", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, "", ErrInvalidCredential},
		{"two api-key", http.Header{"Api-Key": {"a", "b"}}, "", ErrInvalidCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := credential(tt.header)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("credential = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLooksLikeJWT(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"eyJh.eyJz.c2ln", true},
		{"eyJh.eyJz.", true}, // alg none: the verifier refuses it
		{"eyJh..c2ln", false},
		{".eyJz.c2ln", false},
		{"eyJh.eyJz", false},
		{"eyJh.eyJz.c2ln.x", false},
		{"eyJh.eyJz.c2l+", false},
		{"eyJh.eyJz.c2l=", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := looksLikeJWT(tt.s); got != tt.want {
			t.Errorf("looksLikeJWT(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"gpt-4o", "gpt-4o", true},
		{"gpt-4o", "gpt-4o-mini", false},
		{"gpt-4o*", "gpt-4o", true},
		{"gpt-4o*", "gpt-4o-mini", true},
		{"gpt-4o*", "gpt-4", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"*-mini", "gpt-4o-mini", true},
		{"*-mini", "gpt-4o-mini-x", false},
		{"/v1/*/completions", "/v1/chat/completions", true},
		{"/v1/*/completions", "/v1/completions", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a**c", "abc", true},
		{"*a*a*a*a*b", strings.Repeat("a", 200), false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestPrincipalAllows(t *testing.T) {
	p := &Principal{Models: []string{"gpt-4o*", "o1"}, Routes: []string{"/v1/chat/completions"}}
	if !p.AllowsModel("gpt-4o-mini") || !p.AllowsModel("o1") || p.AllowsModel("o1-mini") {
		t.Error("model patterns not applied")
	}
	if !p.AllowsRoute("/v1/chat/completions") || p.AllowsRoute("/v1/embeddings") {
		t.Error("route patterns not applied")
	}
	open := &Principal{}
	if !open.AllowsModel("anything") || !open.AllowsRoute("/v1/anything") {
		t.Error("empty lists must allow everything")
	}
}

func TestClientMessages(t *testing.T) {
	for _, err := range []error{ErrMissingCredential, errMalformedKey, errWrongSecret, errKeyExpired, errKeyRevoked, ErrUnavailable} {
		msg, code := ClientMessage(err), ClientCode(err)
		if msg == "" || code == "" {
			t.Errorf("%v: empty message or code", err)
		}
	}
	// Malformed, unknown and wrong keys are one answer.
	for _, err := range []error{errMalformedKey, errUnknownKey, errWrongSecret, errNotBearer} {
		if ClientMessage(err) != ClientMessage(ErrInvalidCredential) || ClientCode(err) != "invalid_api_key" || HTTPStatus(err) != http.StatusUnauthorized {
			t.Errorf("%v answers differently from ErrInvalidCredential", err)
		}
	}
	if HTTPStatus(ErrUnavailable) != http.StatusServiceUnavailable {
		t.Error("store failure must not be a 401")
	}
}

func TestKeyID(t *testing.T) {
	a, err := newKeyID(time.UnixMilli(1000))
	if err != nil {
		t.Fatal(err)
	}
	b, err := newKeyID(time.UnixMilli(2000))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 30 || !strings.HasPrefix(a, "key_0") || a >= b {
		t.Fatalf("ids %q, %q: want 30 characters, sorted by time", a, b)
	}
	for _, c := range a[4:] {
		if !strings.ContainsRune(crockford, c) {
			t.Fatalf("id %q has %q outside Crockford base32", a, c)
		}
	}
}
