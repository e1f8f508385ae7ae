package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDevTemplates(t *testing.T) {
	ids := []int{5, 1, 9, 3, 7, 2, 8}
	a := DevTemplates(ids, 1)
	b := DevTemplates([]int{9, 8, 7, 5, 3, 2, 1}, 1)
	if len(a) != 4 || len(b) != 4 {
		t.Fatalf("%v %v: want half (rounded up) of 7", a, b)
	}
	for id := range a {
		if !b[id] {
			t.Fatalf("the split depends on the input order: %v vs %v", a, b)
		}
	}
	differs := false
	for seed := uint64(2); seed < 10; seed++ {
		c := DevTemplates(ids, seed)
		for id := range c {
			if !a[id] {
				differs = true
			}
		}
	}
	if !differs {
		t.Error("every seed gives the same split")
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "shared", "pii-presidio-synth")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for _, l := range []string{
		`{"text": "a", "template_id": 1, "id": "0"}`,
		`{"text": "b", "template_id": 2, "id": "1"}`,
		`{"text": "c", "template_id": 1, "id": "2"}`,
		`{"text": "d", "template_id": 3, "id": "3"}`,
	} {
		data = append(data, l+"\n"...)
	}
	if err := os.WriteFile(filepath.Join(src, "data.jsonl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	dev, train := filepath.Join(dir, "dev.jsonl"), filepath.Join(dir, "train.jsonl")
	if err := run(filepath.Join(dir, "shared"), 1, dev, train); err != nil {
		t.Fatal(err)
	}
	d, _ := os.ReadFile(dev)
	tr, _ := os.ReadFile(train)
	if len(d)+len(tr) != len(data) || len(d) == 0 || len(tr) == 0 {
		t.Fatalf("dev %q train %q", d, tr)
	}
	rows, err := read(dev)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, r := range rows {
		ids = append(ids, r.Template)
	}
	// Rows of one template stay together.
	if slices.Contains(ids, 1) && len(rows) < 2 {
		t.Fatalf("template 1 split across dev and train: %q", d)
	}
	if err := run(filepath.Join(dir, "missing"), 1, dev, ""); err == nil {
		t.Fatal("no error for a missing dataset")
	}
}
