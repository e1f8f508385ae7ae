// Package fakevault is a small in-process stand-in for HashiCorp Vault, for
// tests that drive the official Go client (github.com/hashicorp/vault/api).
// It answers the documented request and response shapes of:
//
//	GET  /v1/MOUNT/data/PATH[?version=N]   KV version 2 read
//	PUT  /v1/auth/approle/login            AppRole login
//	PUT  /v1/auth/token/renew-self         token renewal
//	PUT  /v1/MOUNT/encrypt/KEY             Transit encrypt
//	PUT  /v1/MOUNT/decrypt/KEY             Transit decrypt
//
// Every request but the login needs a valid X-Vault-Token; a bad one gets
// 403 {"errors":["permission denied"]}. It is a test double for the
// external service only.
package fakevault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a fake Vault listening on a local address (URL).
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	tokens   map[string]time.Time // token -> expiry (zero: none)
	ttls     map[string]time.Duration
	roles    map[string]role // role_id -> role
	kv       map[string][]map[string]any
	transit  map[string]cipher.AEAD
	logins   int
	renewals int
	reads    int
}

type role struct {
	secretID string
	ttl      time.Duration
}

// RootToken is a token that never expires.
const RootToken = "root-token-for-tests"

// New starts a fake Vault; Close stops it.
func New() *Server {
	s := &Server{
		tokens:  map[string]time.Time{RootToken: {}},
		ttls:    map[string]time.Duration{},
		roles:   map[string]role{},
		kv:      map[string][]map[string]any{},
		transit: map[string]cipher.AEAD{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Put writes a new version of the KV v2 secret mount/path and returns its
// version number (from 1).
func (s *Server) Put(mount, path string, data map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := mount + "/" + path
	s.kv[k] = append(s.kv[k], data)
	return len(s.kv[k])
}

// AddAppRole accepts a login with roleID and secretID, issuing tokens
// that expire after ttl (0: never) and are renewable.
func (s *Server) AddAppRole(roleID, secretID string, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleID] = role{secretID, ttl}
}

// AddTransitKey creates the Transit key mount/name.
func (s *Server) AddTransitKey(mount, name string) {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	b, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transit[mount+"/"+name] = g
}

// RevokeAll revokes every token but the root token.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		if t != RootToken {
			delete(s.tokens, t)
		}
	}
}

// Counts returns how many logins, renewals and KV reads succeeded.
func (s *Server) Counts() (logins, renewals, reads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.renewals, s.reads
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg ...string) {
	if msg == nil {
		msg = []string{}
	}
	writeJSON(w, status, map[string]any{"errors": msg})
}

// response is Vault's generic response envelope.
func response(data, auth map[string]any) map[string]any {
	return map[string]any{
		"request_id": "00000000-0000-0000-0000-000000000000", "lease_id": "", "renewable": false,
		"lease_duration": 0, "data": data, "wrap_info": nil, "warnings": nil, "auth": auth,
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		fail(w, http.StatusNotFound)
		return
	}
	var body map[string]any
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			fail(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	if p == "auth/approle/login" {
		s.login(w, body)
		return
	}
	exp, ok := s.tokens[r.Header.Get("X-Vault-Token")]
	if !ok || (!exp.IsZero() && time.Now().After(exp)) {
		fail(w, http.StatusForbidden, "permission denied")
		return
	}
	if p == "auth/token/renew-self" {
		tok := r.Header.Get("X-Vault-Token")
		s.renewals++
		s.issue(w, tok, s.ttls[tok])
		return
	}
	segs := strings.SplitN(p, "/", 3)
	if len(segs) < 3 {
		fail(w, http.StatusNotFound)
		return
	}
	mount, op, rest := segs[0], segs[1], segs[2]
	switch {
	case op == "data" && r.Method == http.MethodGet:
		s.read(w, r, mount, rest)
	case op == "encrypt" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		s.encrypt(w, mount, rest, body)
	case op == "decrypt" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		s.decrypt(w, mount, rest, body)
	default:
		fail(w, http.StatusNotFound)
	}
}

func (s *Server) issue(w http.ResponseWriter, tok string, ttl time.Duration) {
	var exp time.Time
	if ttl > 0 {
		exp = time.Now().Add(ttl)
	}
	s.tokens[tok] = exp
	s.ttls[tok] = ttl
	writeJSON(w, http.StatusOK, response(nil, map[string]any{
		"client_token": tok, "accessor": "acc-" + tok[len(tok)-4:], "policies": []string{"default"},
		"token_policies": []string{"default"}, "metadata": map[string]any{}, "lease_duration": int(ttl / time.Second),
		"renewable": ttl > 0, "entity_id": "", "token_type": "service", "orphan": true,
	}))
}

func (s *Server) login(w http.ResponseWriter, body map[string]any) {
	rid, _ := body["role_id"].(string)
	sid, _ := body["secret_id"].(string)
	ro, ok := s.roles[rid]
	if !ok || ro.secretID != sid {
		fail(w, http.StatusBadRequest, "invalid role or secret ID")
		return
	}
	s.logins++
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	s.issue(w, "approle-"+base64.RawURLEncoding.EncodeToString(b), ro.ttl)
}

func (s *Server) read(w http.ResponseWriter, r *http.Request, mount, path string) {
	versions := s.kv[mount+"/"+path]
	if len(versions) == 0 {
		fail(w, http.StatusNotFound)
		return
	}
	v := len(versions)
	if q := r.URL.Query().Get("version"); q != "" && q != "0" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > len(versions) {
			fail(w, http.StatusNotFound)
			return
		}
		v = n
	}
	s.reads++
	writeJSON(w, http.StatusOK, response(map[string]any{
		"data": versions[v-1],
		"metadata": map[string]any{
			"created_time": "2026-01-01T00:00:00Z", "custom_metadata": nil,
			"deletion_time": "", "destroyed": false, "version": v,
		},
	}, nil))
}

func (s *Server) encrypt(w http.ResponseWriter, mount, key string, body map[string]any) {
	g, ok := s.transit[mount+"/"+key]
	if !ok {
		fail(w, http.StatusBadRequest, "encryption key not found")
		return
	}
	pt64, _ := body["plaintext"].(string)
	pt, err := base64.StdEncoding.DecodeString(pt64)
	if err != nil {
		fail(w, http.StatusBadRequest, "failed to base64-decode plaintext")
		return
	}
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	ct := g.Seal(nonce, nonce, pt, nil)
	writeJSON(w, http.StatusOK, response(map[string]any{
		"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(ct), "key_version": 1,
	}, nil))
}

func (s *Server) decrypt(w http.ResponseWriter, mount, key string, body map[string]any) {
	g, ok := s.transit[mount+"/"+key]
	if !ok {
		fail(w, http.StatusBadRequest, "encryption key not found")
		return
	}
	ct64, _ := body["ciphertext"].(string)
	raw, ok := strings.CutPrefix(ct64, "vault:v1:")
	if !ok {
		fail(w, http.StatusBadRequest, "invalid ciphertext: no prefix")
		return
	}
	ct, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(ct) < g.NonceSize() {
		fail(w, http.StatusBadRequest, "invalid ciphertext: could not decode")
		return
	}
	pt, err := g.Open(nil, ct[:g.NonceSize()], ct[g.NonceSize():], nil)
	if err != nil {
		fail(w, http.StatusBadRequest, "cipher: message authentication failed")
		return
	}
	writeJSON(w, http.StatusOK, response(map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}, nil))
}

// ClearEnv unsets every VAULT_* environment variable for the rest of the
// test, so that the official client reads only what the test sets.
func ClearEnv(t testing.TB) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VAULT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// UseEnv points the official client's environment at s for the rest of the
// test: VAULT_ADDR, the root token and no retries, every other VAULT_*
// variable unset.
func (s *Server) UseEnv(t testing.TB) {
	ClearEnv(t)
	t.Setenv("VAULT_ADDR", s.URL)
	t.Setenv("VAULT_TOKEN", RootToken)
	t.Setenv("VAULT_MAX_RETRIES", "0")
}
