package osv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeOSV stands in for api.osv.dev: it serves the test export's records
// and answers querybatch with their ids, two results per page.
func fakeOSV(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	recs := map[string][]byte{}
	for _, p := range []string{"PyPI/TEST-PYPI-0001.json", "PyPI/TEST-PYPI-0002.json", "npm/TEST-NPM-0001.json"} {
		data, err := os.ReadFile(export + "/" + p)
		if err != nil {
			t.Fatal(err)
		}
		var v Vulnerability
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		recs[v.ID] = data
	}
	answers := map[string][]string{
		"PyPI/torch":    {"TEST-PYPI-0001", "TEST-PYPI-0002", "TEST-PYPI-0001"},
		"npm/lodash":    {"TEST-NPM-0001"},
		"PyPI/requests": nil,
		"commit/3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b": {"TEST-PYPI-0002"},
	}
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/querybatch", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Queries []apiQuery `json:"queries"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type vid struct {
			ID string `json:"id"`
		}
		type res struct {
			Vulns []vid  `json:"vulns,omitempty"`
			Next  string `json:"next_page_token,omitempty"`
		}
		var out struct {
			Results []res `json:"results"`
		}
		for _, q := range req.Queries {
			var all []string
			switch {
			case q.Commit != "" && q.Package == nil && q.Version == "":
				all = answers["commit/"+q.Commit]
			case q.Package != nil && q.Commit == "":
				all = answers[q.Package.Ecosystem+"/"+q.Package.Name]
			default:
				http.Error(w, "a query names a package and a version, or a commit", http.StatusBadRequest)
				return
			}
			start := 0
			if q.PageToken != "" {
				start = 2
			}
			var r res
			for i := start; i < len(all) && i < start+2; i++ {
				r.Vulns = append(r.Vulns, vid{all[i]})
			}
			if start == 0 && len(all) > 2 {
				r.Next = "page2"
			}
			out.Results = append(out.Results, r)
		}
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("GET /v1/vulns/{id}", func(w http.ResponseWriter, r *http.Request) {
		data, ok := recs[r.PathValue("id")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestClientQueryBatch(t *testing.T) {
	srv, calls := fakeOSV(t)
	var src Source = &Client{BaseURL: srv.URL, Timeout: 5 * time.Second}
	got, err := src.QueryBatch(context.Background(), []PackageVersion{
		{Ecosystem: "PyPI", Name: "torch", Version: "2.5.1"}, {Ecosystem: "npm", Name: "lodash", Version: "4.17.20"}, {Ecosystem: "pypi", Name: "requests", Version: "2.31.0"},
		{Ecosystem: "PyPI", Name: "transformers", Repo: "github.com/huggingface/transformers", Commit: "3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(vs []Vuln) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return out
	}
	if !slices.Equal(ids(got[0]), []string{"TEST-PYPI-0001", "TEST-PYPI-0002", "TEST-PYPI-0001"}) ||
		!slices.Equal(ids(got[1]), []string{"TEST-NPM-0001"}) || len(got[2]) != 0 || !slices.Equal(ids(got[3]), []string{"TEST-PYPI-0002"}) {
		t.Errorf("QueryBatch ids = %v %v %v %v", ids(got[0]), ids(got[1]), ids(got[2]), ids(got[3]))
	}
	if !slices.Equal(got[0][0].Fixed, []string{"2.6.0"}) || !slices.Equal(got[1][0].Fixed, []string{"4.17.21"}) {
		t.Errorf("fixed = %v %v", got[0][0].Fixed, got[1][0].Fixed)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("querybatch calls = %d, want 2 (one page follow-up)", n)
	}
}

func TestClientErrors(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}))
	defer slow.Close()
	c := &Client{BaseURL: slow.URL, Timeout: 100 * time.Millisecond}
	start := time.Now()
	if _, err := c.QueryBatch(context.Background(), []PackageVersion{{Ecosystem: "PyPI", Name: "torch", Version: "1"}}); err == nil {
		t.Error("slow server: no error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
	for name, h := range map[string]http.HandlerFunc{
		"500":         func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
		"bad json":    func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{")) },
		"wrong count": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"results":[]}`)) },
		"endless page": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"results":[{"next_page_token":"again"}]}`))
		},
		"huge": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"results":[{"vulns":[{"id":"` + strings.Repeat("a", maxRespBytes) + `"}]}]}`))
		},
	} {
		srv := httptest.NewServer(h)
		_, err := (&Client{BaseURL: srv.URL}).QueryBatch(context.Background(), []PackageVersion{{Ecosystem: "PyPI", Name: "torch", Version: "1"}})
		srv.Close()
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
