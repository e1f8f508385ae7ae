package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/admin"
	"github.com/rampartsec/rampart/secretref"
	"github.com/rampartsec/rampart/store/sqlite"
)

const adminToken = "admin-token-0123456789abcdef"

type action struct{ action, target, actor string }

type fixture struct {
	srv   *httptest.Server
	store *sqlite.Store
	auth  *auth.Authenticator
	logs  *bytes.Buffer

	mu      sync.Mutex
	now     time.Time
	actions []action
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fixture) takeActions() []action {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.actions
	f.actions = nil
	return a
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	h, err := admin.New(admin.Options{
		Keys:  auth.NewKeyService(st, f.clock),
		Token: secretref.New(adminToken),
		OnAction: func(_ context.Context, a, target, actor string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.actions = append(f.actions, action{a, target, actor})
		},
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
		Clock:  f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", h)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.auth = auth.NewAuthenticator(st, nil, f.clock)
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %s is not JSON: %v", r.body, err)
	}
}

// errorCode checks the OpenAI error shape and returns its code.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct {
			Message *string `json:"message"`
			Type    *string `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	r.json(t, &e)
	if e.Error.Message == nil || e.Error.Type == nil || e.Error.Code == nil || *e.Error.Message == "" {
		t.Fatalf("error body %s lacks message, type or code", r.body)
	}
	return *e.Error.Code
}

func (f *fixture) do(t *testing.T, method, path, token string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, b)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s %s: no Cache-Control: no-store", method, path)
	}
	return response{resp.StatusCode, resp.Header, b}
}

type createdKey struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Prefix      string    `json:"prefix"`
	Group       string    `json:"group"`
	Models      []string  `json:"models"`
	Routes      []string  `json:"routes"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	RevokedAt   time.Time `json:"revoked_at"`
	RotatedFrom string    `json:"rotated_from"`
	Status      string    `json:"status"`
	Secret      string    `json:"secret"`
	Limits      struct {
		RequestsPerMinute int `json:"requests_per_minute"`
	} `json:"limits"`
}

func (f *fixture) create(t *testing.T, body string) createdKey {
	t.Helper()
	r := f.do(t, http.MethodPost, "/admin/v1/keys", adminToken, strings.NewReader(body))
	if r.status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", body, r.status, r.body)
	}
	var k createdKey
	r.json(t, &k)
	return k
}

func (f *fixture) authenticates(t *testing.T, secret string) error {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	_, err := f.auth.Authenticate(context.Background(), req)
	return err
}

func TestAdminAuth(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		header string
	}{
		{"no token", ""},
		{"wrong token", "Bearer " + adminToken + "x"},
		{"token prefix", "Bearer " + adminToken[:10]},
		{"wrong scheme", "Basic " + adminToken},
		{"bare token", adminToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/admin/v1/keys", "/admin/v1/nothing"} {
				req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := f.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
				}
				if code := (response{body: b}).errorCode(t); code != "invalid_admin_token" {
					t.Fatalf("code %q", code)
				}
				if strings.Contains(string(b), adminToken[:10]) {
					t.Fatalf("answer %s echoes the token", b)
				}
			}
		})
	}
	got := f.takeActions()
	if len(got) != 10 || got[0].action != admin.ActionUnauthorized || got[0].actor != "anonymous" {
		t.Fatalf("actions = %+v", got)
	}
	// A request that cannot authenticate must not have changed anything.
	if keys, _ := f.store.ListKeys(context.Background()); len(keys) != 0 {
		t.Fatalf("%d keys", len(keys))
	}
	if _, err := admin.New(admin.Options{Keys: auth.NewKeyService(f.store, nil)}); err == nil {
		t.Fatal("empty token accepted")
	}
	if _, err := admin.New(admin.Options{Keys: auth.NewKeyService(f.store, nil), Token: secretref.New("short")}); err == nil {
		t.Fatal("short token accepted")
	}
}

func TestAdminCreateListRevoke(t *testing.T) {
	f := newFixture(t)
	k := f.create(t, `{"name":"ci","group":"eng","models":["gpt-4o*"],"routes":["/v1/chat/completions"],"expires_in":"720h","limits":{"requests_per_minute":60}}`)
	if !strings.HasPrefix(k.Secret, k.Prefix+"_") || !strings.HasPrefix(k.ID, "key_") || k.Name != "ci" || k.Group != "eng" ||
		k.Status != "active" || k.Limits.RequestsPerMinute != 60 || len(k.Models) != 1 || !k.ExpiresAt.Equal(f.clock().Add(720*time.Hour)) {
		t.Fatalf("created %+v", k)
	}
	if err := f.authenticates(t, k.Secret); err != nil {
		t.Fatalf("new key does not authenticate: %v", err)
	}
	days := f.create(t, `{"name":"thirty days","expires_in":"30d"}`)
	if !days.ExpiresAt.Equal(f.clock().Add(30 * 24 * time.Hour)) {
		t.Fatalf("30d: expires_at %v", days.ExpiresAt)
	}
	if got := f.takeActions(); len(got) != 2 || got[0] != (action{admin.ActionKeyCreate, k.ID, admin.Actor}) {
		t.Fatalf("actions = %+v", got)
	}

	r := f.do(t, http.MethodGet, "/admin/v1/keys", adminToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	for _, leak := range []string{k.Secret, k.Secret[16:], days.Secret[16:], `"hash"`, `"secret"`} {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Fatalf("list shows %q: %s", leak, r.body)
		}
	}
	var list struct {
		Object string       `json:"object"`
		Data   []createdKey `json:"data"`
	}
	r.json(t, &list)
	if list.Object != "list" || len(list.Data) != 2 {
		t.Fatalf("list = %+v", list)
	}
	r = f.do(t, http.MethodGet, "/admin/v1/keys/"+k.ID, adminToken, nil)
	if r.status != http.StatusOK || bytes.Contains(r.body, []byte(`"secret"`)) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}

	r = f.do(t, http.MethodPost, "/admin/v1/keys/"+k.ID+"/revoke", adminToken, nil)
	var revoked createdKey
	r.json(t, &revoked)
	if r.status != http.StatusOK || revoked.Status != "revoked" || !revoked.RevokedAt.Equal(f.clock()) || revoked.Secret != "" {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if err := f.authenticates(t, k.Secret); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("revoked key: err = %v", err)
	}
	if got := f.takeActions(); len(got) != 1 || got[0] != (action{admin.ActionKeyRevoke, k.ID, admin.Actor}) {
		t.Fatalf("actions = %+v", got)
	}
	// Revoking again is harmless; an unknown key is a 404.
	if r := f.do(t, http.MethodPost, "/admin/v1/keys/"+k.ID+"/revoke", adminToken, strings.NewReader("{}")); r.status != http.StatusOK {
		t.Fatalf("second revoke: %d %s", r.status, r.body)
	}
	r = f.do(t, http.MethodPost, "/admin/v1/keys/key_nope/revoke", adminToken, nil)
	if r.status != http.StatusNotFound || r.errorCode(t) != "key_not_found" {
		t.Fatalf("unknown revoke: %d %s", r.status, r.body)
	}
}

func TestAdminRotate(t *testing.T) {
	f := newFixture(t)
	old := f.create(t, `{"name":"svc","group":"g","models":["m"]}`)
	f.takeActions()

	r := f.do(t, http.MethodPost, "/admin/v1/keys/"+old.ID+"/rotate", adminToken, strings.NewReader(`{"grace":"1h"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	var next createdKey
	r.json(t, &next)
	if next.RotatedFrom != old.ID || next.ID == old.ID || next.Name != "svc" || next.Group != "g" || next.Secret == "" || next.Secret == old.Secret {
		t.Fatalf("rotated = %+v", next)
	}
	if got := f.takeActions(); len(got) != 2 || got[0] != (action{admin.ActionKeyCreate, next.ID, admin.Actor}) || got[1] != (action{admin.ActionKeyRotate, old.ID, admin.Actor}) {
		t.Fatalf("actions = %+v", got)
	}
	var oldView createdKey
	f.do(t, http.MethodGet, "/admin/v1/keys/"+old.ID, adminToken, nil).json(t, &oldView)
	if oldView.Status != "revoking" {
		t.Fatalf("old key during grace: status %q", oldView.Status)
	}
	if err := f.authenticates(t, old.Secret); err != nil {
		t.Fatalf("old key during grace: %v", err)
	}
	f.advance(time.Hour)
	if err := f.authenticates(t, old.Secret); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("old key after grace: %v", err)
	}
	if err := f.authenticates(t, next.Secret); err != nil {
		t.Fatalf("new key: %v", err)
	}
	// Without a body the old key goes at once; a revoked key cannot rotate.
	r = f.do(t, http.MethodPost, "/admin/v1/keys/"+next.ID+"/rotate", adminToken, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("rotate without body: %d %s", r.status, r.body)
	}
	if err := f.authenticates(t, next.Secret); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("rotated without grace: %v", err)
	}
	r = f.do(t, http.MethodPost, "/admin/v1/keys/"+next.ID+"/rotate", adminToken, nil)
	if r.status != http.StatusConflict || r.errorCode(t) != "key_revoked" {
		t.Fatalf("rotate revoked: %d %s", r.status, r.body)
	}
	r = f.do(t, http.MethodPost, "/admin/v1/keys/key_nope/rotate", adminToken, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("rotate unknown: %d %s", r.status, r.body)
	}
}

func TestAdminBadRequests(t *testing.T) {
	f := newFixture(t)
	k := f.create(t, `{"name":"k"}`)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"empty body", "POST", "/admin/v1/keys", "", 400, "invalid_json"},
		{"not JSON", "POST", "/admin/v1/keys", "name=x", 400, "invalid_json"},
		{"truncated", "POST", "/admin/v1/keys", `{"name":"x"`, 400, "invalid_json"},
		{"unknown field", "POST", "/admin/v1/keys", `{"name":"x","admin":true}`, 400, "invalid_json"},
		{"wrong type", "POST", "/admin/v1/keys", `{"name":1}`, 400, "invalid_json"},
		{"two objects", "POST", "/admin/v1/keys", `{"name":"x"}{"name":"y"}`, 400, "invalid_json"},
		{"array", "POST", "/admin/v1/keys", `[]`, 400, "invalid_json"},
		{"bad expires_at", "POST", "/admin/v1/keys", `{"name":"x","expires_at":"tomorrow"}`, 400, "invalid_json"},
		{"no name", "POST", "/admin/v1/keys", `{"group":"g"}`, 400, "invalid_field"},
		{"bad expires_in", "POST", "/admin/v1/keys", `{"name":"x","expires_in":"soon"}`, 400, "invalid_field"},
		{"negative expires_in", "POST", "/admin/v1/keys", `{"name":"x","expires_in":"-1h"}`, 400, "invalid_field"},
		{"expires_at in the past", "POST", "/admin/v1/keys", `{"name":"x","expires_at":"2020-01-01T00:00:00Z"}`, 400, "invalid_field"},
		{"negative limit", "POST", "/admin/v1/keys", `{"name":"x","limits":{"concurrent":-1}}`, 400, "invalid_field"},
		{"too large", "POST", "/admin/v1/keys", `{"name":"` + strings.Repeat("x", admin.MaxBodyBytes) + `"}`, 413, "body_too_large"},
		{"bad grace", "POST", "/admin/v1/keys/" + k.ID + "/rotate", `{"grace":"forever"}`, 400, "invalid_field"},
		{"revoke with unknown field", "POST", "/admin/v1/keys/" + k.ID + "/revoke", `{"at":"now"}`, 400, "invalid_json"},
		{"wrong method on list", "DELETE", "/admin/v1/keys", "", 405, "method_not_allowed"},
		{"GET revoke", "GET", "/admin/v1/keys/" + k.ID + "/revoke", "", 405, "method_not_allowed"},
		{"unknown path", "GET", "/admin/v1/users", "", 404, "not_found"},
		{"unknown key", "GET", "/admin/v1/keys/key_nope", "", 404, "key_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := f.do(t, tt.method, tt.path, adminToken, body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if code := r.errorCode(t); code != tt.wantCode {
				t.Fatalf("code %q, want %q: %s", code, tt.wantCode, r.body)
			}
			if tt.wantStatus == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			if len(r.body) > 1024 {
				t.Fatalf("error echoes the body: %d bytes", len(r.body))
			}
		})
	}
	if keys, _ := f.store.ListKeys(context.Background()); len(keys) != 1 {
		t.Fatalf("bad requests created keys: %d", len(keys))
	}
	if got := f.takeActions(); len(got) != 1 {
		t.Fatalf("bad requests were audited as actions: %+v", got)
	}
}

// TestAdminStoreFailure checks that a database error is a 500 with a
// generic message, logged on the server.
func TestAdminStoreFailure(t *testing.T) {
	f := newFixture(t)
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := f.do(t, http.MethodGet, "/admin/v1/keys", adminToken, nil)
	if r.status != http.StatusInternalServerError || r.errorCode(t) != "internal_error" || bytes.Contains(r.body, []byte("sql")) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if !strings.Contains(f.logs.String(), "list keys") {
		t.Fatalf("error not logged: %q", f.logs.String())
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"720h", 720 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"0d", 0, true},
		{"1.5d", 0, false},
		{"-1d", 0, false},
		{"-1h", 0, false},
		{"99999999d", 0, false},
		{"d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := admin.ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"720h", "30d", "1h30m", "-1h", "d", "", "1.5d", "9223372036854775807ns", "99999d", " 7d "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := admin.ParseDuration(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("ParseDuration(%q) = %v with error %v", s, d, err)
			}
			return
		}
		if d < 0 || d > 36500*24*time.Hour && strings.HasSuffix(strings.TrimSpace(s), "d") {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
	})
}
