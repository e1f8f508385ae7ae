package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/rampartsec/rampart/config"
)

// TestTracingExportsSpans: with tracing on, a request through a traced
// handler reaches an OTLP/HTTP collector; with it off, nothing is wrapped.
func TestTracingExportsSpans(t *testing.T) {
	var exports atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			b, _ := io.ReadAll(r.Body)
			if len(b) > 0 {
				exports.Add(1)
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	shutdown, err := startTracing(context.Background(), config.Tracing{Enabled: true, Endpoint: collector.URL})
	if err != nil {
		t.Fatal(err)
	}
	h := traced(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }), true)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/models", nil))
	shutdown(context.Background()) // flushes the batch
	if exports.Load() == 0 {
		t.Fatal("no span reached the collector")
	}

	off, err := startTracing(context.Background(), config.Tracing{})
	if err != nil || off != nil {
		t.Fatalf("tracing off: shutdown %v, err %v", off != nil, err)
	}
	if _, err := startTracing(context.Background(), config.Tracing{Enabled: true}); err == nil {
		t.Fatal("enabled without an endpoint was accepted")
	}
}
