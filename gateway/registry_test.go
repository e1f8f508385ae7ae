package gateway_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/fakeupstream"
	"github.com/rampartsec/rampart/limit"
	"github.com/rampartsec/rampart/store/sqlite"
)

// countingStore is the real SQLite store, counting the production-list
// reads the gateway makes.
type countingStore struct {
	*sqlite.Store
	loads atomic.Int64
}

func (s *countingStore) ProductionModels(ctx context.Context) (map[string]string, error) {
	s.loads.Add(1)
	return s.Store.ProductionModels(ctx)
}

// newRegistryEnv is newEnv with registry.require_production on and the
// store wrapped in a countingStore.
func newRegistryEnv(t *testing.T, refresh time.Duration, models ...string) (*env, *countingStore) {
	t.Helper()
	e := &env{t: t, logs: &syncBuffer{}}
	e.up = fakeupstream.New(upstreamKey, true)
	e.upSrv = httptest.NewServer(e.up)
	t.Cleanup(e.upSrv.Close)
	t.Setenv("OPENAI_API_KEY", upstreamKey)
	t.Setenv("OPENAI_BASE_URL", e.upSrv.URL+"/v1")
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Registry = config.Registry{RequireProduction: true, Refresh: refresh, Models: models}
	ctx := context.Background()
	if e.st, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "rampart.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	cs := &countingStore{Store: e.st}
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	e.aw = audit.NewWriter(e.st, audit.WriterOptions{Logger: log})
	t.Cleanup(func() { _ = e.aw.Close(context.Background()) })
	e.gw, err = gateway.New(ctx, cfg, gateway.Deps{
		Store: cs, Limiter: limit.NewMemory(limit.MemoryOptions{}), Audit: e.aw, Logger: log, Registerer: prometheus.NewRegistry(), Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.gw.Handler())
	t.Cleanup(e.srv.Close)
	e.key, e.keyID = e.newKey(auth.CreateOptions{Name: "test"})
	return e, cs
}

func modelBody(model string) string {
	return `{"model":"` + model + `","messages":[{"role":"user","content":"hello"}]}`
}

// promoteForTest puts a version of model into production through the real
// registry: alice pushes and requests, bob approves. The scanner and
// verifier are stand-ins for packages not yet merged.
func promoteForTest(t testing.TB, st *sqlite.Store, model, version string) {
	t.Helper()
	ctx := context.Background()
	reg := registry.New(st, registry.Options{
		Scanner: func(context.Context, string) (*finding.Report, error) {
			return &finding.Report{Tool: "rampart", Version: "test"}, nil
		},
		Verifier: func(context.Context, string, string) (registry.SignatureInfo, error) {
			return registry.SignatureInfo{Verified: true}, nil
		},
	})
	signers := map[string]*registry.Signer{}
	for _, name := range []string{"alice", "bob"} {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		s, err := registry.NewSigner(k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.AddIdentity(ctx, name+"-"+version, s.PublicKeyPEM(), "admin"); err != nil {
			t.Fatal(err)
		}
		signers[name] = s
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), []byte(model+version), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := registry.DigestDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(who string, st registry.Statement) registry.SignedStatement {
		ss, err := signers[who].Sign(st, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	if _, err := reg.Push(ctx, sign("alice", registry.Statement{Action: registry.ActionPush, Model: model, Version: version, Digest: m.Digest}), registry.PushInput{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	req, err := reg.RequestPromotion(ctx, sign("alice", registry.Statement{Action: registry.ActionPromote, Model: model, Version: version, Digest: m.Digest}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Approve(ctx, sign("bob", registry.Statement{Action: registry.ActionApprove, Model: model, Version: version, Digest: m.Digest, Request: req.ID})); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryRequireProduction(t *testing.T) {
	e, cs := newRegistryEnv(t, 50*time.Millisecond)

	status, _, body := e.post("/v1/chat/completions", modelBody("fraud-llm"))
	if status != http.StatusForbidden {
		t.Fatalf("a model without a production version: status %d, body %s", status, body)
	}
	var apiErr struct {
		Error struct {
			Message, Type, Param, Code string
			RequestID                  string `json:"request_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &apiErr); err != nil {
		t.Fatal(err)
	}
	if apiErr.Error.Code != "model_not_approved" || apiErr.Error.Type != "permission_error" || apiErr.Error.Param != "model" ||
		!strings.Contains(apiErr.Error.Message, `"fraud-llm" is not approved`) || apiErr.Error.RequestID == "" {
		t.Fatalf("error %+v", apiErr.Error)
	}
	if n := len(e.up.Requests()); n != 0 {
		t.Fatalf("the upstream received %d requests for an unapproved model", n)
	}

	// Promoted through the registry: served once the list is refreshed.
	promoteForTest(t, e.st, "fraud-llm", "1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _, body = e.post("/v1/chat/completions", modelBody("fraud-llm"))
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after promotion the model is still refused: %d %s", status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Other models are still refused.
	if status, _, _ := e.post("/v1/chat/completions", modelBody("other")); status != http.StatusForbidden {
		t.Fatalf("another model: status %d", status)
	}
	if cs.loads.Load() < 2 {
		t.Fatalf("the production list was read %d times; the refresh never ran", cs.loads.Load())
	}

	// The refusal is in the audit log.
	var denied int
	if err := e.st.ScanAudit(context.Background(), 1, func(en audit.Entry) error {
		r, err := audit.Decode(en.Payload)
		if r.Kind == audit.KindRequest && r.Status == http.StatusForbidden && r.Model == "fraud-llm" && r.Decision == "denied" {
			denied++
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if denied == 0 {
		t.Fatal("no audit record of the refused request")
	}
}

// TestRegistryHotPathNoStoreRead checks that requests read the production
// list from memory: within registry.refresh, 200 requests cause no store
// read beyond the one at start-up.
func TestRegistryHotPathNoStoreRead(t *testing.T) {
	e, cs := newRegistryEnv(t, time.Hour, "fraud-*")
	promoteForTest(t, e.st, "fraud-llm", "1")
	if got := cs.loads.Load(); got != 1 {
		t.Fatalf("%d loads after start-up, want 1", got)
	}
	for range 100 {
		// Not yet refreshed: still refused, from memory.
		if status, _, _ := e.post("/v1/chat/completions", modelBody("fraud-llm")); status != http.StatusForbidden {
			t.Fatalf("status %d before the refresh", status)
		}
		// A model outside registry.models needs no production version.
		if status, _, _ := e.post("/v1/chat/completions", modelBody("gpt-4o-mini")); status != http.StatusOK {
			t.Fatalf("a model outside registry.models: status %d", status)
		}
	}
	if got := cs.loads.Load(); got != 1 {
		t.Fatalf("200 requests read the production list %d more times, want 0", got-1)
	}
}

// BenchmarkRegistryGate measures a 1 KiB chat request with
// registry.require_production off and on (the model in production, the
// list refreshed every 100 ms in the background).
func BenchmarkRegistryGate(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, func(c *config.Config) {
				c.Limits.Key = config.LimitSet{RequestsPerMinute: 1e9, TokensPerMinute: 1e12, Concurrent: 1e6, MaxTokens: 32768}
				c.Limits.IP = config.LimitSet{RequestsPerMinute: 1e9, Concurrent: 1e6}
				c.Registry = config.Registry{RequireProduction: on, Refresh: 100 * time.Millisecond}
			})
			body := chatBody(strings.Repeat("Please summarise the weather in Paris. ", 1<<10/39), false)
			if on {
				promoteForTest(b, e.st, benchModel(b, body), "1")
				deadline := time.Now().Add(5 * time.Second)
				for status, _, _ := e.post("/v1/chat/completions", body); status != http.StatusOK; status, _, _ = e.post("/v1/chat/completions", body) {
					if time.Now().After(deadline) {
						b.Fatalf("status %d", status)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			benchChat(b, e, body, len(body))
		})
	}
}

// benchModel returns the model a request body names.
func benchModel(b *testing.B, body string) string {
	var v struct{ Model string }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		b.Fatal(err)
	}
	return v.Model
}
