package gateway_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/fakevault"

	_ "github.com/rampartsec/rampart/secretref/vault"
)

// metricValue returns the value of the series whose line starts with
// prefix on e's /metrics, or 0.
func (e *env) metricValue(prefix string) float64 {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// lastAuth sends a chat request and returns the Authorization header the
// upstream received.
func (e *env) lastAuth() string {
	e.t.Helper()
	e.post("/v1/chat/completions", chatBody("hi", false))
	r, ok := e.up.Last()
	if !ok {
		e.t.Fatal("the upstream received nothing")
	}
	return r.Header.Get("Authorization")
}

func TestUpstreamKeyRefreshFromVault(t *testing.T) {
	fv := fakevault.New()
	defer fv.Close()
	fv.Put("secret", "llm/openai", map[string]any{"api_key": upstreamKey})
	fv.UseEnv(t)
	var upName string
	e := newEnv(t, func(c *config.Config) {
		upName = c.Upstreams[0].Name
		c.Upstreams[0].APIKey = "vault:secret/llm/openai#api_key"
		c.Upstreams[0].Refresh = time.Second
	})
	t.Cleanup(e.gw.Close)
	if got := e.lastAuth(); got != "Bearer "+upstreamKey {
		t.Fatalf("first request: Authorization %q, want the key from Vault", got)
	}

	// Rotate the key in Vault: within a refresh interval the gateway uses
	// the new one, without a reload.
	const rotated = "sk-rotated-KEY-abcdefghijklmnop0123456789"
	fv.Put("secret", "llm/openai", map[string]any{"api_key": rotated})
	deadline := time.Now().Add(5 * time.Second)
	for e.lastAuth() != "Bearer "+rotated {
		if time.Now().After(deadline) {
			t.Fatal("the rotated key was not picked up within 5s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := e.metricValue(`rampart_upstream_credential_refreshes_total{result="ok",upstream="` + upName + `"}`); v < 1 {
		t.Errorf("ok refreshes = %v, want >= 1", v)
	}

	// Vault goes away: refreshes fail, the gateway keeps the rotated key,
	// counts the failures and logs them without the key.
	fv.Close()
	deadline = time.Now().Add(5 * time.Second)
	for e.metricValue(`rampart_upstream_credential_refreshes_total{result="error",upstream="`+upName+`"}`) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no failed refresh counted within 5s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.lastAuth(); got != "Bearer "+rotated {
		t.Fatalf("after a failed refresh: Authorization %q, want the last good key", got)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "upstream credential refresh failed") {
		t.Errorf("the failed refresh was not logged:\n%s", logs)
	}
	for _, s := range []string{upstreamKey, rotated, fakevault.RootToken} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain a secret %q", s)
		}
	}
}
