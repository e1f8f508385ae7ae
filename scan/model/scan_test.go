package model_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/internal/cputime"
	"github.com/rampartsec/rampart/scan/model"
	"github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func scan(t *testing.T, opts model.Options, paths ...string) *finding.Report {
	t.Helper()
	rep, err := model.Scan(context.Background(), paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Validate(); err != nil {
		t.Fatal(err)
	}
	return rep
}

func rules(rep *finding.Report) map[string]int {
	m := map[string]int{}
	for _, f := range rep.Findings {
		m[f.RuleID]++
	}
	return m
}

var payload = pickletest.New(2).Call("os", "system", pickletest.S("id")).Stop().Bytes()

func TestFolder(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, filepath.Join(outside, "evil.bin"), payload)
	write(t, filepath.Join(root, "repo", ".git", "objects", "evil.pkl"), payload)
	write(t, filepath.Join(root, "repo", "sub", "weights.bin"), payload)
	write(t, filepath.Join(root, "repo", "README.md"), []byte("# model\n"))
	if err := os.Symlink(filepath.Join(outside, "evil.bin"), filepath.Join(root, "repo", "linked.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "repo", "sub", "weights.bin"), filepath.Join(root, "repo", "inside.bin")); err != nil {
		t.Fatal(err)
	}
	rep := scan(t, model.Options{}, filepath.Join(root, "repo"))
	got := map[string]bool{}
	for _, f := range rep.Findings {
		got[f.RuleID+" "+filepath.Base(f.Location.Path)] = true
	}
	for _, want := range []string{
		"model.pickle.dangerous-global weights.bin",
		"model.scan.symlink-escape linked.bin",
		"model.pickle.dangerous-global linked.bin",
	} {
		if !got[want] {
			t.Errorf("missing %q in %v", want, got)
		}
	}
	for _, not := range []string{"model.pickle.dangerous-global evil.pkl", "model.pickle.dangerous-global inside.bin"} {
		if got[not] {
			t.Errorf("unexpected %q (.git is skipped; links inside the folder are scanned where they lead)", not)
		}
	}
}

func TestLimits(t *testing.T) {
	dir := t.TempDir()
	// A pickle inside six nested zips: deeper than the default depth.
	inner := payload
	name := "data.pkl"
	for range 6 {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create(name)
		w.Write(inner)
		zw.Close()
		inner, name = buf.Bytes(), "inner.zip"
	}
	write(t, filepath.Join(dir, "deep.zip"), inner)
	if r := rules(scan(t, model.Options{}, filepath.Join(dir, "deep.zip"))); r["model.archive.nesting-depth"]+r["model.scan.limit"] == 0 {
		t.Errorf("no depth finding: %v", r)
	}
	if r := rules(scan(t, model.Options{MaxDepth: 8}, filepath.Join(dir, "deep.zip"))); r["model.pickle.dangerous-global"] != 1 {
		t.Errorf("with depth 8 the payload is found: %v", r)
	}

	for i := range 5 {
		write(t, filepath.Join(dir, "many", string(rune('a'+i))+".pkl"), payload)
	}
	if r := rules(scan(t, model.Options{MaxFiles: 3}, filepath.Join(dir, "many"))); r["model.scan.limit"] != 1 || r["model.pickle.dangerous-global"] != 3 {
		t.Errorf("MaxFiles 3: %v", r)
	}
}

// TestHeaderOnly: a 10 GB safetensors file (sparse) scans in well under a
// second, because only its header is read.
func TestHeaderOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.safetensors")
	const n = 10_000_000_000
	hdr := []byte(`{"w":{"dtype":"U8","shape":[10000000000],"data_offsets":[0,10000000000]}}`)
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	b = append(b, hdr...)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(len(b)) + 10000000000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if st, _ := os.Stat(path); st.Size() < n {
		t.Fatalf("size %d", st.Size())
	}
	// The process's CPU time (every goroutine of the scan; nothing else in
	// this package runs meanwhile), which a loaded machine does not
	// inflate as it does the wall clock: reading 10 GB would take seconds
	// of it, the header a few milliseconds. The wall clock only guards
	// against a hang.
	start := time.Now()
	cpu0, cpuOK := cputime.Process()
	rep := scan(t, model.Options{}, path)
	cpu1, _ := cputime.Process()
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("10 GB safetensors took %v", d)
	}
	if d := cpu1 - cpu0; cpuOK && d > 500*time.Millisecond {
		t.Errorf("10 GB safetensors took %v of CPU time", d)
	}
	if top, _ := rep.Max(); top > finding.Low {
		t.Errorf("clean file reported: %v", rules(rep))
	}
}

func TestJSONConfigs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, body, rule string
	}{
		{"list-template/tokenizer_config.json", `{"chat_template": [{"name": "default", "template": "hi"}, {"name": "tool_use", "template": "{{ cycler.__init__.__globals__.os.popen('id').read() }}"}]}`, "model.template."},
		{"remote/config.json", `{"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel", "AutoConfig": "configuration_x.XConfig"}}`, "model.scan.remote-code"},
		{"keras/config.json", `{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAADAAAA8wYAAACXAHwAUwCpAU6pAKkB2gF4cwEAAAAg+gg8c3RyaW5nPvoIPGxhbWJkYT5yBQAAAAEAAABzBgAAAIAAmAGAAHIDAAAAAA=="}}}}]}}`, "model.keras."},
	} {
		write(t, filepath.Join(dir, c.name), []byte(c.body))
		rep := scan(t, model.Options{}, filepath.Join(dir, c.name))
		found := false
		for _, f := range rep.Findings {
			if len(f.RuleID) >= len(c.rule) && f.RuleID[:len(c.rule)] == c.rule && f.Severity >= finding.Medium {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s finding: %v", c.name, c.rule, rules(rep))
		}
	}
}
