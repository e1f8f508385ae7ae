package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/store/sqlite"
)

// clock is a settable time source shared by the service and the
// authenticator under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rampart.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

func request(header, value string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	if header != "" {
		r.Header.Set(header, value)
	}
	return r
}

func mustCreate(t *testing.T, svc *auth.KeyService, opts auth.CreateOptions) (string, *auth.Key) {
	t.Helper()
	secret, k, err := svc.Create(context.Background(), opts)
	if err != nil {
		t.Fatalf("Create(%+v): %v", opts, err)
	}
	return secret, k
}

func TestAuthenticateKeys(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := newClock()
	svc := auth.NewKeyService(st, clk.Now)
	a := auth.NewAuthenticator(st, nil, clk.Now)

	limits := config.LimitSet{RequestsPerMinute: 60, DailyBudgetUSD: 2.5}
	valid, validKey := mustCreate(t, svc, auth.CreateOptions{
		Name: "ci-bot", Group: "engineering", Models: []string{"gpt-4o*"}, Routes: []string{"/v1/chat/completions"}, Limits: limits,
	})
	expiring, _ := mustCreate(t, svc, auth.CreateOptions{Name: "expiring", ExpiresIn: time.Hour})
	revoked, revokedKey := mustCreate(t, svc, auth.CreateOptions{Name: "revoked"})
	if _, err := svc.Revoke(ctx, revokedKey.ID); err != nil {
		t.Fatal(err)
	}
	later, laterKey := mustCreate(t, svc, auth.CreateOptions{Name: "revoked-later"})
	if err := st.RevokeKey(ctx, laterKey.ID, clk.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	unknown, _, _, err := auth.Generate() // well formed, never stored
	if err != nil {
		t.Fatal(err)
	}
	repl := "a"
	if valid[len(valid)-1] == 'a' {
		repl = "b"
	}
	wrongSecret := valid[:len(valid)-1] + repl // same prefix, one character off

	type step struct {
		name    string
		advance time.Duration // before this step
		req     *http.Request
		wantErr error
		reason  string
		wantID  string
	}
	steps := []step{
		{name: "valid key", req: request("Authorization", "Bearer "+valid), wantID: validKey.ID},
		{name: "valid key, api-key header", req: request("api-key", valid), wantID: validKey.ID},
		{name: "valid key, lower-case bearer", req: request("Authorization", "bearer "+valid), wantID: validKey.ID},
		{name: "wrong secret, right prefix", req: request("Authorization", "Bearer "+wrongSecret), wantErr: auth.ErrInvalidCredential, reason: "wrong key secret"},
		{name: "unknown prefix", req: request("Authorization", "Bearer "+unknown), wantErr: auth.ErrInvalidCredential, reason: "unknown key prefix"},
		{name: "malformed: truncated", req: request("Authorization", "Bearer "+valid[:40]), wantErr: auth.ErrInvalidCredential, reason: "malformed"},
		{name: "malformed: bad character", req: request("Authorization", "Bearer "+valid[:30]+"!"+valid[31:]), wantErr: auth.ErrInvalidCredential, reason: "malformed"},
		{name: "malformed: not a key at all", req: request("Authorization", "Bearer sk-proj-0123456789abcdef"), wantErr: auth.ErrInvalidCredential},
		{name: "JWT when JWT is off", req: request("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), wantErr: auth.ErrInvalidCredential, reason: "not configured"},
		{name: "missing", req: request("", ""), wantErr: auth.ErrMissingCredential},
		{name: "Basic scheme", req: request("Authorization", "Basic "+valid), wantErr: auth.ErrInvalidCredential},
		{name: "revoked", req: request("Authorization", "Bearer "+revoked), wantErr: auth.ErrRevoked},
		{name: "revoked in the future: still valid", req: request("Authorization", "Bearer "+later), wantID: laterKey.ID},
		{name: "expiring: still valid", req: request("Authorization", "Bearer "+expiring), wantID: ""},
		{name: "expired", advance: time.Hour, req: request("Authorization", "Bearer "+expiring), wantErr: auth.ErrExpired},
		{name: "revoked in the future: now past", advance: time.Hour, req: request("api-key", later), wantErr: auth.ErrRevoked},
		{name: "valid key, hours later", req: request("Authorization", "Bearer "+valid), wantID: validKey.ID},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		p, err := a.Authenticate(ctx, s.req)
		if s.wantErr != nil {
			if !errors.Is(err, s.wantErr) || p != nil {
				t.Fatalf("%s: got %+v, %v; want %v", s.name, p, err, s.wantErr)
			}
			if !strings.Contains(err.Error(), s.reason) {
				t.Errorf("%s: err %q lacks reason %q", s.name, err, s.reason)
			}
			for _, secret := range []string{valid, expiring, revoked, later, unknown, wrongSecret} {
				// Neither the whole key nor its secret half.
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[16:]) {
					t.Fatalf("%s: error %q contains a key", s.name, err)
				}
			}
			if msg := auth.ClientMessage(err); strings.Contains(msg, "rk_") {
				t.Fatalf("%s: client message %q quotes a key", s.name, msg)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.wantID != "" && p.KeyID != s.wantID {
			t.Fatalf("%s: KeyID = %q, want %q", s.name, p.KeyID, s.wantID)
		}
		if p.Kind != auth.KindKey {
			t.Fatalf("%s: Kind = %q", s.name, p.Kind)
		}
	}

	// The principal carries the key's settings.
	p, err := a.Authenticate(ctx, request("Authorization", "Bearer "+valid))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "ci-bot" || p.Group != "engineering" || p.Limits != limits ||
		!p.AllowsModel("gpt-4o-mini") || p.AllowsModel("o3") ||
		!p.AllowsRoute("/v1/chat/completions") || p.AllowsRoute("/v1/embeddings") {
		t.Fatalf("principal = %+v", p)
	}
}

// TestRevocationIsImmediate checks that nothing caches a key record: the
// request right after a revocation is refused, and so is one after a
// revocation made by another handle on the same database file (another
// gateway process or the CLI).
func TestRevocationIsImmediate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	gw, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	cli, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	a := auth.NewAuthenticator(gw, nil, nil)
	svc := auth.NewKeyService(cli, nil)
	for _, name := range []string{"first", "second"} {
		secret, k := mustCreate(t, svc, auth.CreateOptions{Name: name})
		for range 3 {
			if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+secret)); err != nil {
				t.Fatalf("%s before revocation: %v", name, err)
			}
		}
		if _, err := svc.Revoke(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+secret)); !errors.Is(err, auth.ErrRevoked) {
			t.Fatalf("%s right after revocation: err = %v, want ErrRevoked", name, err)
		}
	}
}

func TestAuthenticateStoreFailure(t *testing.T) {
	st := openStore(t)
	svc := auth.NewKeyService(st, nil)
	secret, _ := mustCreate(t, svc, auth.CreateOptions{Name: "k"})
	a := auth.NewAuthenticator(st, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Authenticate(ctx, request("Authorization", "Bearer "+secret))
	if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrInvalidCredential) {
		t.Fatalf("err = %v, want ErrUnavailable (a 503, not a 401)", err)
	}
	if auth.HTTPStatus(err) != http.StatusServiceUnavailable || strings.Contains(err.Error(), secret[16:]) {
		t.Fatalf("err = %v", err)
	}
}

func TestKeyServiceCreate(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := newClock()
	svc := auth.NewKeyService(st, clk.Now)

	at := clk.Now().Add(48 * time.Hour)
	secret, k := mustCreate(t, svc, auth.CreateOptions{Name: "n", Group: "g", Models: []string{" gpt-4o "}, ExpiresAt: at})
	if prefix, ok := auth.ParsePrefix(secret); !ok || prefix != k.Prefix {
		t.Fatalf("secret %q does not carry prefix %q", secret, k.Prefix)
	}
	if !strings.HasPrefix(k.ID, "key_") || len(k.ID) != 30 || !k.ExpiresAt.Equal(at) || !k.CreatedAt.Equal(clk.Now()) || k.Models[0] != "gpt-4o" {
		t.Fatalf("key = %+v", k)
	}
	stored, err := st.KeyByID(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Prefix != k.Prefix || string(stored.Hash) != string(k.Hash) || stored.Group != "g" {
		t.Fatalf("stored = %+v", stored)
	}
	_, k2 := mustCreate(t, svc, auth.CreateOptions{Name: "in", ExpiresIn: 720 * time.Hour})
	if !k2.ExpiresAt.Equal(clk.Now().Add(720 * time.Hour)) {
		t.Fatalf("ExpiresAt = %v", k2.ExpiresAt)
	}
	keys, err := svc.List(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("List = %d keys, %v", len(keys), err)
	}

	bad := []struct {
		name string
		opts auth.CreateOptions
		want string
	}{
		{"no name", auth.CreateOptions{}, "name is required"},
		{"blank name", auth.CreateOptions{Name: "  "}, "name is required"},
		{"long name", auth.CreateOptions{Name: strings.Repeat("x", 129)}, "name is longer"},
		{"control character", auth.CreateOptions{Name: "a\nb"}, "control character"},
		{"invalid UTF-8", auth.CreateOptions{Name: "a\xffb"}, "UTF-8"},
		{"empty model", auth.CreateOptions{Name: "n", Models: []string{"gpt", ""}}, "models[1] is empty"},
		{"too many routes", auth.CreateOptions{Name: "n", Routes: make([]string, 300)}, "routes: 300 entries"},
		{"negative expires_in", auth.CreateOptions{Name: "n", ExpiresIn: -time.Hour}, "negative"},
		{"both expiries", auth.CreateOptions{Name: "n", ExpiresIn: time.Hour, ExpiresAt: at}, "not both"},
		{"expires_at in the past", auth.CreateOptions{Name: "n", ExpiresAt: clk.Now().Add(-time.Second)}, "not in the future"},
		{"negative limit", auth.CreateOptions{Name: "n", Limits: config.LimitSet{Concurrent: -1}}, "negative"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := svc.Create(ctx, tt.opts)
			if !errors.Is(err, auth.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidOptions mentioning %q", err, tt.want)
			}
		})
	}
	if keys, _ := svc.List(ctx); len(keys) != 2 {
		t.Fatalf("invalid creates stored keys: %d", len(keys))
	}
}

func TestKeyServiceRevoke(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := newClock()
	svc := auth.NewKeyService(st, clk.Now)
	_, k := mustCreate(t, svc, auth.CreateOptions{Name: "n"})

	first, err := svc.Revoke(ctx, k.ID)
	if err != nil || !first.RevokedAt.Equal(clk.Now()) {
		t.Fatalf("Revoke = %+v, %v", first, err)
	}
	clk.Advance(time.Hour)
	again, err := svc.Revoke(ctx, k.ID)
	if err != nil || !again.RevokedAt.Equal(first.RevokedAt) {
		t.Fatalf("second Revoke moved the time: %+v, %v", again, err)
	}
	if _, err := svc.Revoke(ctx, "key_nope"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("unknown id: err = %v", err)
	}
}

func TestKeyServiceRotate(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := newClock()
	svc := auth.NewKeyService(st, clk.Now)
	a := auth.NewAuthenticator(st, nil, clk.Now)
	limits := config.LimitSet{TokensPerMinute: 1000}
	oldSecret, old := mustCreate(t, svc, auth.CreateOptions{
		Name: "svc", Group: "g", Models: []string{"m*"}, Routes: []string{"/v1/*"}, Limits: limits, ExpiresIn: 30 * 24 * time.Hour,
	})
	clk.Advance(24 * time.Hour)

	newSecret, next, err := svc.Rotate(ctx, old.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if next.RotatedFrom != old.ID || next.ID == old.ID || next.Prefix == old.Prefix || next.Name != "svc" || next.Group != "g" ||
		next.Limits != limits || len(next.Models) != 1 || next.Models[0] != "m*" || len(next.Routes) != 1 ||
		!next.ExpiresAt.Equal(clk.Now().Add(30*24*time.Hour)) {
		t.Fatalf("rotated key = %+v", next)
	}
	// During the grace period both keys work.
	for _, s := range []string{oldSecret, newSecret} {
		if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+s)); err != nil {
			t.Fatalf("during grace: %v", err)
		}
	}
	clk.Advance(time.Hour)
	if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+oldSecret)); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("old key after grace: err = %v", err)
	}
	if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+newSecret)); err != nil {
		t.Fatalf("new key after grace: %v", err)
	}

	// Rotating with no grace revokes at once; a revoked key cannot rotate.
	third, k3, err := svc.Rotate(ctx, next.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+newSecret)); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("rotated without grace: err = %v", err)
	}
	if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+third)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Rotate(ctx, next.ID, 0); !errors.Is(err, auth.ErrKeyRevoked) {
		t.Fatalf("rotate revoked key: err = %v", err)
	}
	if _, _, err := svc.Rotate(ctx, "key_nope", 0); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("rotate unknown key: err = %v", err)
	}
	if _, _, err := svc.Rotate(ctx, k3.ID, -time.Second); !errors.Is(err, auth.ErrInvalidOptions) {
		t.Fatalf("negative grace: err = %v", err)
	}
	// A long grace does not postpone a revocation already scheduled sooner.
	if err := st.RevokeKey(ctx, k3.ID, clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Rotate(ctx, k3.ID, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := a.Authenticate(ctx, request("Authorization", "Bearer "+third)); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("grace postponed an earlier revocation: err = %v", err)
	}
}

// BenchmarkAuthenticateKey measures a whole key authentication against the
// SQLite store: header parsing, the lookup by prefix, SHA-256 and the
// constant-time compare. Besides wall time it reports cpu-ns/op (process
// CPU time from getrusage, all threads), which a loaded machine distorts
// far less than wall time.
func BenchmarkAuthenticateKey(b *testing.B) {
	ctx := context.Background()
	st := openStore(b)
	svc := auth.NewKeyService(st, nil)
	var secret, prefix string
	for i := range 1000 {
		s, k, err := svc.Create(ctx, auth.CreateOptions{Name: "bench", Models: []string{"gpt-4o*"}})
		if err != nil {
			b.Fatal(err)
		}
		if i == 500 {
			secret, prefix = s, k.Prefix
		}
	}
	a := auth.NewAuthenticator(st, nil, nil)
	unknown, _, _, err := auth.Generate()
	if err != nil {
		b.Fatal(err)
	}
	serial := []struct {
		name string
		op   func() error
	}{
		{"store-lookup-only", func() error { _, err := st.KeyByPrefix(ctx, prefix); return err }},
		{"unknown-prefix", func() error {
			_, err := a.Authenticate(ctx, request("Authorization", "Bearer "+unknown))
			if errors.Is(err, auth.ErrInvalidCredential) {
				return nil
			}
			return err
		}},
	}
	for _, bm := range serial {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if err := bm.op(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
	// The request is built once, as the server builds it before we run.
	b.Run("authenticate", func(b *testing.B) {
		r := request("Authorization", "Bearer "+secret)
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if _, err := a.Authenticate(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("authenticate-parallel", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			r := request("Authorization", "Bearer "+secret)
			for pb.Next() {
				if _, err := a.Authenticate(ctx, r); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("malformed", func(b *testing.B) {
		r := request("Authorization", "Bearer rk_short")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authenticate(ctx, r); !errors.Is(err, auth.ErrInvalidCredential) {
				b.Fatal(err)
			}
		}
	})
}

// cpuTime returns the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// FuzzAuthenticate drives header parsing and credential routing with
// arbitrary header values against a real store holding one key, and checks
// the invariants: no panic, only the real key authenticates, errors are of
// the documented kinds and never quote the credential.
func FuzzAuthenticate(f *testing.F) {
	st := openStore(f)
	secret, k, err := auth.NewKeyService(st, nil).Create(context.Background(), auth.CreateOptions{Name: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	a := auth.NewAuthenticator(st, nil, nil)
	wrong := secret[:20] + strings.Map(func(r rune) rune { return r ^ 1 }, secret[20:21]) + secret[21:]
	for _, s := range [][2]string{
		{"Bearer " + secret, ""}, {"", secret}, {"bearer " + wrong, ""}, {"Basic abc", ""},
		{"Bearer", ""}, {"Bearer eyJhbGciOiJub25lIn0.e30.", ""}, {"", " "}, {"Bearer rk_", ""},
		{"Bearer \t" + secret + "\t", ""}, {"", ""}, {"Bearer " + secret + secret, ""}, {"Bearer " + k.Prefix, ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, authz, apiKey string) {
		r := &http.Request{Header: http.Header{}}
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if apiKey != "" {
			r.Header["Api-Key"] = []string{apiKey}
		}
		p, err := a.Authenticate(context.Background(), r)
		if err == nil {
			if p.KeyID != k.ID || !strings.Contains(authz+apiKey, secret) {
				t.Fatalf("authenticated %q / %q as %+v", authz, apiKey, p)
			}
			return
		}
		if !errors.Is(err, auth.ErrMissingCredential) && !errors.Is(err, auth.ErrInvalidCredential) {
			t.Fatalf("unexpected error kind %v", err)
		}
		if strings.Contains(err.Error(), secret[16:]) {
			t.Fatalf("error %q quotes the secret", err)
		}
		for _, v := range []string{strings.TrimSpace(authz), strings.TrimSpace(apiKey)} {
			if len(v) >= 8 && strings.Contains(err.Error(), v) {
				t.Fatalf("error %q quotes the credential", err)
			}
		}
	})
}
