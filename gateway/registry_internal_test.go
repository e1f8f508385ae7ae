package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/cputime"
)

// BenchmarkRegistryLookup measures what registry.require_production adds
// to a request: the pattern check, the snapshot load and the map lookup
// (100 models in production), without a store read.
func BenchmarkRegistryLookup(b *testing.B) {
	p := &production{}
	models := make(map[string]string, 100)
	for i := range 100 {
		models[fmt.Sprintf("model-%03d", i)] = "1"
	}
	p.snap.Store(&prodSnapshot{models: models, at: time.Now()})
	g := &Gateway{}
	ctx := context.Background()
	patterns := []string{"model-*"}
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		if !matchesModel(patterns, "model-042") {
			b.Fatal("no match")
		}
		m, err := p.models(ctx, g, now, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := m["model-042"]; !ok {
			b.Fatal("not found")
		}
	}
}

func TestMatchesModel(t *testing.T) {
	for _, tt := range []struct {
		patterns []string
		model    string
		want     bool
	}{
		{nil, "anything", true},
		{[]string{"acme-*"}, "acme-llm", true},
		{[]string{"acme-*"}, "gpt-4o", false},
		{[]string{"meta-llama/*"}, "meta-llama/Llama-3-8B", true},
		{[]string{"fraud", "acme-*"}, "fraud", true},
		{[]string{"[bad"}, "[bad", true},
	} {
		if got := matchesModel(tt.patterns, tt.model); got != tt.want {
			t.Errorf("matchesModel(%q, %q) = %v, want %v", tt.patterns, tt.model, got, tt.want)
		}
	}
}

// TestRegistryLookupCPU reports the CPU time registry.require_production
// adds to a request (thread CPU time, steady on a loaded machine); run
// with -v to see it. It fails only if the lookup allocates.
func TestRegistryLookupCPU(t *testing.T) {
	if !cputime.Supported() {
		t.Skip("thread CPU time is not readable here")
	}
	p := &production{}
	models := make(map[string]string, 100)
	for i := range 100 {
		models[fmt.Sprintf("model-%03d", i)] = "1"
	}
	p.snap.Store(&prodSnapshot{models: models, at: time.Now()})
	g := &Gateway{}
	ctx := context.Background()
	for _, patterns := range [][]string{nil, {"model-*"}} {
		check := func() {
			if !matchesModel(patterns, "model-042") {
				t.Fatal("no match")
			}
			m, _ := p.models(ctx, g, time.Now(), time.Hour)
			if _, ok := m["model-042"]; !ok {
				t.Fatal("not found")
			}
		}
		t.Logf("patterns %q: %v CPU per request", patterns, cputime.Median(check))
		if a := testing.AllocsPerRun(100, check); a != 0 {
			t.Fatalf("the lookup allocates %v times", a)
		}
	}
}
