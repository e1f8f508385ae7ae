package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
)

const (
	testIssuer   = "https://idp.example.test"
	testAudience = "rampart-gateway"
)

// signer is one private key of the test identity provider.
type signer struct {
	alg  jwa.SignatureAlgorithm
	priv jwk.Key
	pub  jwk.Key
	raw  any // the public key as a crypto type
}

func newSigner(t testing.TB, kid string, alg jwa.SignatureAlgorithm) *signer {
	t.Helper()
	var raw, rawPub any
	switch alg.String() {
	case "RS256", "PS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		raw, rawPub = k, &k.PublicKey
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		raw, rawPub = k, &k.PublicKey
	case "EdDSA":
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		raw, rawPub = k, pub
	default:
		t.Fatalf("no key type for %s", alg)
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := priv.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	if err := priv.Set(jwk.AlgorithmKey, alg); err != nil {
		t.Fatal(err)
	}
	pub, err := priv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return &signer{alg: alg, priv: priv, pub: pub, raw: rawPub}
}

// sign signs claims; the header carries the signer's kid and alg.
func (s *signer) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(s.alg, s.priv))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jwksServer serves a JWKS that the test can swap.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	status  int
	fetches int
}

func newJWKSServer(t *testing.T, keys ...*signer) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t *testing.T, keys ...*signer) {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k.pub); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *jwksServer) fetchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

func baseJWTConfig(url string) *config.JWT {
	return &config.JWT{
		JWKSURL:    url,
		Issuer:     testIssuer,
		Audience:   testAudience,
		Leeway:     30 * time.Second,
		GroupClaim: "groups",
		Groups:     map[string]string{"eng": "engineering", "ops": "operations"},
		Models:     []string{"gpt-4o*"},
	}
}

func newVerifier(t *testing.T, cfg *config.JWT) *auth.JWTVerifier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := auth.NewJWTVerifier(ctx, cfg)
	if err != nil {
		t.Fatalf("NewJWTVerifier: %v", err)
	}
	t.Cleanup(func() {
		if err := v.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return v
}

func claims(now time.Time, extra map[string]any) map[string]any {
	c := map[string]any{
		"iss":    testIssuer,
		"aud":    []string{testAudience},
		"sub":    "alice@example.test",
		"iat":    now.Add(-time.Minute),
		"nbf":    now.Add(-time.Minute),
		"exp":    now.Add(time.Hour),
		"groups": []string{"eng"},
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// rawToken assembles a compact JWS by hand, for tokens no library signs.
func rawToken(t testing.TB, header, payload map[string]any, sig func(signingInput string) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(header) + "." + enc(payload)
	var s []byte
	if sig != nil {
		s = sig(in)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(s)
}

func unixClaims(c map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		if tm, ok := v.(time.Time); ok {
			out[k] = tm.Unix()
			continue
		}
		out[k] = v
	}
	return out
}

func TestJWTVerify(t *testing.T) {
	rs := newSigner(t, "rsa-1", jwa.RS256())
	ps := newSigner(t, "rsa-pss", jwa.PS256())
	es := newSigner(t, "ec-1", jwa.ES256())
	ed := newSigner(t, "ed-1", jwa.EdDSA())
	stranger := newSigner(t, "rsa-1", jwa.RS256()) // same kid, other key
	unknown := newSigner(t, "nobody", jwa.ES256())
	srv := newJWKSServer(t, rs, ps, es, ed)
	v := newVerifier(t, baseJWTConfig(srv.URL))
	now := time.Now()

	// The HS256 key-confusion attack: HMAC over the token with the
	// server's public key (PEM, as many libraries read it) as the secret.
	der, err := x509.MarshalPKIXPublicKey(rs.raw)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs256 := func(secret []byte) func(string) []byte {
		return func(in string) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(in))
			return m.Sum(nil)
		}
	}
	jwkJSON, err := json.Marshal(rs.pub)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		token     string
		wantErr   error
		wantGroup string
		reason    string // in the error, for the server's log
	}{
		{"valid RS256", rs.sign(t, claims(now, nil)), nil, "engineering", ""},
		{"valid PS256", ps.sign(t, claims(now, nil)), nil, "engineering", ""},
		{"valid ES256", es.sign(t, claims(now, nil)), nil, "engineering", ""},
		{"valid EdDSA", ed.sign(t, claims(now, nil)), nil, "engineering", ""},
		{"audience as a string", rs.sign(t, claims(now, map[string]any{"aud": testAudience})), nil, "engineering", ""},
		{"group claim as a string", rs.sign(t, claims(now, map[string]any{"groups": "ops"})), nil, "operations", ""},
		{"first mapped group wins", rs.sign(t, claims(now, map[string]any{"groups": []string{"sales", "ops", "eng"}})), nil, "operations", ""},
		{"expired within leeway", rs.sign(t, claims(now, map[string]any{"exp": now.Add(-10 * time.Second)})), nil, "engineering", ""},
		{"wrong issuer", rs.sign(t, claims(now, map[string]any{"iss": "https://evil.example.test"})), auth.ErrInvalidCredential, "", "wrong issuer"},
		{"wrong audience", rs.sign(t, claims(now, map[string]any{"aud": []string{"other-service"}})), auth.ErrInvalidCredential, "", "wrong audience"},
		{"expired", rs.sign(t, claims(now, map[string]any{"exp": now.Add(-time.Hour)})), auth.ErrExpired, "", "expired"},
		{"not yet valid", rs.sign(t, claims(now, map[string]any{"nbf": now.Add(time.Hour)})), auth.ErrInvalidCredential, "", "nbf"},
		{"issued in the future", rs.sign(t, claims(now, map[string]any{"iat": now.Add(time.Hour)})), auth.ErrInvalidCredential, "", "iat"},
		{"no exp", rs.sign(t, claims(now, map[string]any{"exp": nil})), auth.ErrInvalidCredential, "", "missing exp"},
		{"no subject", rs.sign(t, claims(now, map[string]any{"sub": nil})), auth.ErrInvalidCredential, "", "no sub claim"},
		{"no mapped group and no default", rs.sign(t, claims(now, map[string]any{"groups": []string{"sales"}})), auth.ErrInvalidCredential, "", "no group"},
		{"group claim missing", rs.sign(t, claims(now, map[string]any{"groups": nil})), auth.ErrInvalidCredential, "", "no group"},
		{"unknown kid", unknown.sign(t, claims(now, nil)), auth.ErrInvalidCredential, "", "unknown kid"},
		{"right kid, wrong key", stranger.sign(t, claims(now, nil)), auth.ErrInvalidCredential, "", "signature or format"},
		{"alg none", rawToken(t, map[string]any{"alg": "none", "typ": "JWT"}, unixClaims(claims(now, nil)), nil), auth.ErrInvalidCredential, "", "signature or format"},
		{"alg none with kid", rawToken(t, map[string]any{"alg": "none", "kid": "rsa-1"}, unixClaims(claims(now, nil)), nil), auth.ErrInvalidCredential, "", "signature or format"},
		{"HS256 with the public key PEM as secret", rawToken(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, unixClaims(claims(now, nil)), hs256(pubPEM)), auth.ErrInvalidCredential, "", "signature or format"},
		{"HS256 with the public JWK as secret", rawToken(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, unixClaims(claims(now, nil)), hs256(jwkJSON)), auth.ErrInvalidCredential, "", "signature or format"},
		{"HS256 without kid", rawToken(t, map[string]any{"alg": "HS256"}, unixClaims(claims(now, nil)), hs256(pubPEM)), auth.ErrInvalidCredential, "", "signature or format"},
		{"RS256 header on an EC key", rawToken(t, map[string]any{"alg": "RS256", "kid": "ec-1"}, unixClaims(claims(now, nil)), func(string) []byte { return []byte("x") }), auth.ErrInvalidCredential, "", "signature or format"},
		{"tampered payload", tamper(rs.sign(t, claims(now, nil))), auth.ErrInvalidCredential, "", "signature or format"},
		{"garbage", "Zm9vYmFyYmF6cXV4.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", auth.ErrInvalidCredential, "", "signature or format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tt.token, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if p != nil {
					t.Fatalf("principal %+v returned with an error", p)
				}
				if !strings.Contains(err.Error(), tt.reason) {
					t.Fatalf("err = %q, want reason %q", err, tt.reason)
				}
				for _, part := range strings.Split(tt.token, ".") {
					if len(part) >= 8 && strings.Contains(err.Error(), part) {
						t.Fatalf("error %q contains part of the token", err)
					}
				}
				if strings.Contains(err.Error(), tt.token) {
					t.Fatalf("error %q contains the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := auth.Principal{
				KeyID: "jwt:alice@example.test", Subject: "alice@example.test",
				Group: tt.wantGroup, Kind: auth.KindJWT, Models: []string{"gpt-4o*"},
			}
			if p.KeyID != want.KeyID || p.Subject != want.Subject || p.Group != want.Group || p.Kind != want.Kind {
				t.Fatalf("principal = %+v, want %+v", p, want)
			}
			if !p.AllowsModel("gpt-4o-mini") || p.AllowsModel("o1") {
				t.Fatalf("models from the config not applied: %v", p.Models)
			}
			if p.ExpiresAt.IsZero() {
				t.Fatal("ExpiresAt not set")
			}
		})
	}
}

// tamper changes the payload's subject while keeping the signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), "alice", "mallo", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func TestJWTDefaultGroupAndSubjectClaim(t *testing.T) {
	rs := newSigner(t, "rsa-1", jwa.RS256())
	srv := newJWKSServer(t, rs)
	cfg := baseJWTConfig(srv.URL)
	cfg.DefaultGroup = "default"
	cfg.SubjectClaim = "email"
	v := newVerifier(t, cfg)
	now := time.Now()

	tok := rs.sign(t, claims(now, map[string]any{"groups": []string{"sales"}, "email": "bob@example.test"}))
	p, err := v.Verify(context.Background(), tok, now)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.Group != "default" || p.Subject != "bob@example.test" || p.KeyID != "jwt:bob@example.test" {
		t.Fatalf("principal = %+v", p)
	}
	// A mapped value still wins over the default.
	p, err = v.Verify(context.Background(), rs.sign(t, claims(now, map[string]any{"email": "bob@example.test"})), now)
	if err != nil || p.Group != "engineering" {
		t.Fatalf("mapped group: %+v, %v", p, err)
	}
	// The subject comes from the configured claim only.
	_, err = v.Verify(context.Background(), rs.sign(t, claims(now, nil)), now)
	if !errors.Is(err, auth.ErrInvalidCredential) {
		t.Fatalf("token without the subject claim: err = %v", err)
	}
}

func TestJWTFromFile(t *testing.T) {
	es := newSigner(t, "ec-file", jwa.ES256())
	set := jwk.NewSet()
	if err := set.AddKey(es.pub); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := baseJWTConfig("")
	cfg.JWKSFile = path
	v := newVerifier(t, cfg)
	now := time.Now()
	if _, err := v.Verify(context.Background(), es.sign(t, claims(now, nil)), now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNewJWTVerifierErrors(t *testing.T) {
	rs := newSigner(t, "rsa-1", jwa.RS256())
	good := newJWKSServer(t, rs)
	failing := newJWKSServer(t, rs)
	failing.status = http.StatusInternalServerError
	notJSON := newJWKSServer(t)
	notJSON.body = []byte("<html>hello</html>")
	sym := newJWKSServer(t)
	symKey, err := jwk.Import([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	symSet := jwk.NewSet()
	_ = symSet.AddKey(symKey)
	sym.body, _ = json.Marshal(symSet)
	priv := newJWKSServer(t)
	privSet := jwk.NewSet()
	_ = privSet.AddKey(rs.priv)
	priv.body, _ = json.Marshal(privSet)

	tests := []struct {
		name string
		mod  func(c *config.JWT)
		want string
	}{
		{"first fetch fails", func(c *config.JWT) { c.JWKSURL = failing.URL }, "fetch jwks_url"},
		{"not a JWKS", func(c *config.JWT) { c.JWKSURL = notJSON.URL }, "fetch jwks_url"},
		{"unreachable", func(c *config.JWT) { c.JWKSURL = "http://127.0.0.1:1/jwks" }, "fetch jwks_url"},
		{"symmetric key", func(c *config.JWT) { c.JWKSURL = sym.URL }, "symmetric"},
		{"private key", func(c *config.JWT) { c.JWKSURL = priv.URL }, "private key"},
		{"bad scheme", func(c *config.JWT) { c.JWKSURL = "file:///etc/passwd" }, "not an http(s) URL"},
		{"both sources", func(c *config.JWT) { c.JWKSFile = "/x" }, "not both"},
		{"no source", func(c *config.JWT) { c.JWKSURL = "" }, "set jwks_file or jwks_url"},
		{"missing file", func(c *config.JWT) { c.JWKSURL = ""; c.JWKSFile = "/nonexistent/jwks.json" }, "read jwks_file"},
		{"no issuer", func(c *config.JWT) { c.Issuer = "" }, "issuer is required"},
		{"no audience", func(c *config.JWT) { c.Audience = "" }, "audience is required"},
		{"no group source", func(c *config.JWT) { c.GroupClaim = ""; c.DefaultGroup = "" }, "group"},
		{"negative leeway", func(c *config.JWT) { c.Leeway = -time.Second }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseJWTConfig(good.URL)
			tt.mod(cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			v, err := auth.NewJWTVerifier(ctx, cfg)
			if err == nil {
				_ = v.Close()
				t.Fatal("NewJWTVerifier succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := auth.NewJWTVerifier(context.Background(), nil); err == nil {
		t.Fatal("nil config accepted")
	}
}

// TestJWKSRefresh rotates the identity provider's key and checks that the
// verifier picks up the new key set on its refresh interval.
func TestJWKSRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a refresh")
	}
	old := newSigner(t, "k-old", jwa.ES256())
	// Same kid, new key: no unknown-kid refresh can help, only the
	// scheduled one.
	rotated := newSigner(t, "k-old", jwa.ES256())
	srv := newJWKSServer(t, old)
	cfg := baseJWTConfig(srv.URL)
	cfg.RefreshInterval = time.Second
	v := newVerifier(t, cfg)
	now := time.Now()
	if _, err := v.Verify(context.Background(), old.sign(t, claims(now, nil)), now); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	// Our first fetch, then the cache's own: rotate only after both.
	waitFetches(t, srv, 2)
	srv.setKeys(t, rotated)
	start := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := time.Now()
		_, errNew := v.Verify(context.Background(), rotated.sign(t, claims(now, nil)), now)
		_, errOld := v.Verify(context.Background(), old.sign(t, claims(now, nil)), now)
		if errNew == nil && errors.Is(errOld, auth.ErrInvalidCredential) {
			t.Logf("rotation picked up after %s", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rotation not picked up after 10s: new key: %v, old key: %v", errNew, errOld)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestJWKSUnknownKidRefresh checks that a token naming a kid the verifier
// has not seen forces one early refresh, and no more than one.
func TestJWKSUnknownKidRefresh(t *testing.T) {
	old := newSigner(t, "k-old", jwa.ES256())
	rotated := newSigner(t, "k-new", jwa.ES256())
	srv := newJWKSServer(t, old)
	cfg := baseJWTConfig(srv.URL)
	cfg.RefreshInterval = time.Hour
	v := newVerifier(t, cfg)

	// Let the cache's own first fetch land so the count below is stable.
	waitFetches(t, srv, 2)
	before := srv.fetchCount()
	srv.setKeys(t, old, rotated)
	now := time.Now()
	if _, err := v.Verify(context.Background(), rotated.sign(t, claims(now, nil)), now); err != nil {
		t.Fatalf("new kid after forced refresh: %v", err)
	}
	stranger := newSigner(t, "k-random", jwa.ES256())
	for range 20 {
		if _, err := v.Verify(context.Background(), stranger.sign(t, claims(now, nil)), now); !errors.Is(err, auth.ErrInvalidCredential) {
			t.Fatalf("unknown kid: err = %v", err)
		}
	}
	if got := srv.fetchCount() - before; got != 1 {
		t.Fatalf("%d fetches for unknown kids, want exactly 1", got)
	}
}

func waitFetches(t *testing.T, srv *jwksServer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.fetchCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("JWKS fetched %d times, want %d", srv.fetchCount(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FuzzJWTVerify feeds arbitrary tokens to the verifier: it must never
// panic, and it may accept only a token whose signed part (header and
// payload) is that of a token the test signed.
func FuzzJWTVerify(f *testing.F) {
	es := newSigner(f, "ec-1", jwa.ES256())
	set := jwk.NewSet()
	if err := set.AddKey(es.pub); err != nil {
		f.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		f.Fatal(err)
	}
	cfg := baseJWTConfig("")
	cfg.JWKSFile = path
	v, err := auth.NewJWTVerifier(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	signed := map[string]bool{}
	for _, c := range []map[string]any{claims(now, nil), claims(now, map[string]any{"groups": "ops", "aud": testAudience})} {
		tok := es.sign(f, c)
		signed[tok[:strings.LastIndexByte(tok, '.')]] = true
		f.Add(tok)
	}
	f.Add(rawToken(f, map[string]any{"alg": "none"}, unixClaims(claims(now, nil)), nil))
	f.Add(rawToken(f, map[string]any{"alg": "HS256", "kid": "ec-1"}, unixClaims(claims(now, nil)), func(string) []byte { return b }))
	f.Add("eyJhbGciOiJFUzI1NiJ9..")
	f.Add("...")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(context.Background(), tok, now)
		if err == nil {
			i := strings.LastIndexByte(tok, '.')
			if i < 0 || !signed[tok[:i]] {
				t.Fatalf("accepted a token the test did not sign: %q as %+v", tok, p)
			}
			return
		}
		if !errors.Is(err, auth.ErrInvalidCredential) && !errors.Is(err, auth.ErrExpired) {
			t.Fatalf("unexpected error kind %v", err)
		}
	})
}

func BenchmarkJWTVerify(b *testing.B) {
	for _, alg := range []jwa.SignatureAlgorithm{jwa.ES256(), jwa.RS256(), jwa.EdDSA()} {
		b.Run(alg.String(), func(b *testing.B) {
			s := newSigner(b, "k", alg)
			set := jwk.NewSet()
			if err := set.AddKey(s.pub); err != nil {
				b.Fatal(err)
			}
			raw, _ := json.Marshal(set)
			path := filepath.Join(b.TempDir(), "jwks.json")
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				b.Fatal(err)
			}
			cfg := baseJWTConfig("")
			cfg.JWKSFile = path
			v, err := auth.NewJWTVerifier(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			tok := s.sign(b, claims(now, nil))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
