package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fixture writes carrier files like the shared datasets' into a temporary
// directory.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, src := range []string{"benign-gpteacher", "benign-mtbench"} {
		if err := os.MkdirAll(filepath.Join(dir, src), 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for i := range 40 {
			text := fmt.Sprintf("Write a short story about a lighthouse keeper number %d who learns to paint.", i)
			if i%10 == 0 {
				text = "See [this](https://example.com) first." // skipped: has a link
			}
			json.NewEncoder(&b).Encode(map[string]string{"text": text, "label": "benign", "id": fmt.Sprint(src, i)})
		}
		if err := os.WriteFile(filepath.Join(dir, src, "data.jsonl"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRunDeterministic(t *testing.T) {
	data := fixture(t)
	out1, out2 := filepath.Join(t.TempDir(), "a.jsonl"), filepath.Join(t.TempDir(), "b.jsonl")
	if err := run(1, data, "dev", out1, 60); err != nil {
		t.Fatal(err)
	}
	if err := run(1, data, "dev", out2, 60); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out1)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different files")
	}
	labels := map[string]int{}
	families := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(a))
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		labels[r.Label]++
		families[r.Family] = true
		if r.Lang != "en" || r.Source == "" || r.Text == "" {
			t.Fatalf("row %+v", r)
		}
		if bytes.Contains([]byte(r.Text), []byte("https://example.com)")) {
			t.Fatalf("a carrier with a link was used: %q", r.Text)
		}
	}
	if labels["exfil"] != 60 || labels["benign"] != 60 {
		t.Fatalf("labels %v", labels)
	}
	if len(families) != len(posFamilies)+len(negFamilies) {
		t.Fatalf("%d families, want %d", len(families), len(posFamilies)+len(negFamilies))
	}
	if err := run(2, data, "dev", out2, 60); err != nil {
		t.Fatal(err)
	}
	if c, _ := os.ReadFile(out2); bytes.Equal(a, c) {
		t.Fatal("another seed gave the same file")
	}
	if err := run(1, data, "test", out2, 1); err == nil {
		t.Fatal("split \"test\" accepted")
	}
}
