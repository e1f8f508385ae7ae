package osv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestFallback: an unreachable or failing API leaves the offline database
// to answer, and the failure is remembered; a working API answers itself.
func TestFallback(t *testing.T) {
	db, _ := importExport(t, export)
	pkgs := []PackageVersion{{Ecosystem: "PyPI", Name: "torch", Version: "2.3.1"}}

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens any more
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	for name, url := range map[string]string{"unreachable": dead.URL, "5xx": failing.URL} {
		t.Run(name, func(t *testing.T) {
			f := &Fallback{Online: &Client{BaseURL: url, Timeout: 2 * time.Second}, Offline: db}
			got, err := f.QueryBatch(context.Background(), pkgs)
			if err != nil || len(got) != 1 || len(got[0]) != 1 || got[0][0].ID != "TEST-PYPI-0001" {
				t.Fatalf("QueryBatch = %v, %v; want the offline answer", got, err)
			}
			if f.Err() == nil {
				t.Error("the API failure was not remembered")
			}
		})
	}
	t.Run("no offline database", func(t *testing.T) {
		f := &Fallback{Online: &Client{BaseURL: dead.URL, Timeout: 2 * time.Second}}
		if _, err := f.QueryBatch(context.Background(), pkgs); err == nil {
			t.Error("an unreachable API without an offline database is no error")
		}
	})
	t.Run("api answers", func(t *testing.T) {
		srv, _ := fakeOSV(t)
		f := &Fallback{Online: &Client{BaseURL: srv.URL, Timeout: 5 * time.Second}, Offline: db}
		got, err := f.QueryBatch(context.Background(), []PackageVersion{{Ecosystem: "npm", Name: "lodash", Version: "4.17.20"}})
		if err != nil || f.Err() != nil || len(got[0]) != 1 || got[0][0].ID != "TEST-NPM-0001" {
			t.Errorf("QueryBatch = %v, %v, fallback error %v", got, err, f.Err())
		}
	})
}
