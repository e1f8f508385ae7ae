package onnx

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rampartsec/rampart/finding"
	fx "github.com/rampartsec/rampart/scan/model/internal/fixtures"
)

func scan(t testing.TB, b []byte, dir string) []finding.Finding {
	t.Helper()
	fs, err := Scan(bytes.NewReader(b), int64(len(b)), dir)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return fs
}

func describe(fs []finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s %s @%d %q: %s", f.RuleID, f.Severity, f.Location.Offset, f.Excerpt, f.Message)
	}
	return b.String()
}

func severities(fs []finding.Finding) map[string]finding.Severity {
	m := map[string]finding.Severity{}
	for _, f := range fs {
		if f.Severity > m[f.RuleID] || m[f.RuleID] == 0 {
			m[f.RuleID] = f.Severity
		}
	}
	return m
}

func ext(name, loc string, kv ...string) fx.ONNXTensor {
	t := fx.ONNXTensor{Name: name, Location: true, External: [][2]string{{"location", loc}}}
	for i := 0; i+1 < len(kv); i += 2 {
		t.External = append(t.External, [2]string{kv[i], kv[i+1]})
	}
	return t
}

func withInit(ts ...fx.ONNXTensor) []byte {
	m := fx.BenignONNX()
	m.Graph.Initializers = append(m.Graph.Initializers, ts...)
	return m.Bytes()
}

func withNodes(ns ...fx.ONNXNode) []byte {
	m := fx.BenignONNX()
	m.Graph.Nodes = append(m.Graph.Nodes, ns...)
	return m.Bytes()
}

// modelDir makes a model folder holding weights.bin (4096 bytes), a
// symlink inside pointing out of the folder, and one pointing inside.
func modelDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"escape.bin":     filepath.Join(root, "secret.txt"),
		"rel_escape.bin": "../secret.txt",
		"sub/inside.bin": "../weights.bin",
		"dangling.bin":   "/nonexistent/rampart/x",
		"dirlink":        root,
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestScan(t *testing.T) {
	dir := modelDir(t)
	tests := []struct {
		name string
		file []byte
		dir  string
		want map[string]finding.Severity
	}{
		{"benign MLP", fx.BenignONNX().Bytes(), dir, nil},
		{"benign external data in the folder", withInit(ext("W2", "weights.bin", "offset", "0", "length", "4096")), dir, nil},
		{"benign external data through a symlink inside", withInit(ext("W2", "sub/inside.bin", "offset", "1024")), dir, nil},
		{"benign a/../b stays inside", withInit(ext("W2", "sub/../weights.bin")), dir, nil},
		{"benign model-local function", fx.ONNXModel{
			Graph:     fx.ONNXGraph{Nodes: []fx.ONNXNode{{OpType: "MyGelu", Domain: "custom.fn"}}},
			Functions: []fx.ONNXFunction{{Name: "MyGelu", Domain: "custom.fn", Nodes: []fx.ONNXNode{{OpType: "Erf"}, {OpType: "Mul"}}}},
		}.Bytes(), "", nil},
		{"benign ONNX Runtime contrib op", withNodes(fx.ONNXNode{OpType: "FusedMatMul", Domain: "com.microsoft"}), "",
			map[string]finding.Severity{RuleContribOp.ID: finding.Info}},
		{"absolute location", withInit(ext("W2", "/etc/passwd")), dir, map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"absolute location inside an archive", withInit(ext("W2", "/etc/passwd")), "", map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"dot-dot escape", withInit(ext("W2", "../../../../home/user/.ssh/id_rsa")), dir, map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"windows drive path", withInit(ext("W2", `C:\Windows\win.ini`)), "", map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"backslash dot-dot", withInit(ext("W2", `sub\..\..\secret.txt`)), "", map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"symlink to an absolute path outside", withInit(ext("W2", "escape.bin")), dir, map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"symlink to a relative path outside", withInit(ext("W2", "rel_escape.bin")), dir, map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"directory symlink outside", withInit(ext("W2", "dirlink/secret.txt")), dir, map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"dangling symlink outside", withInit(ext("W2", "dangling.bin")), dir, map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"ORT memory marker", withInit(ext("W2", "*/_ORT_MEM_ADDR_/*", "offset", "140737488347136", "length", "4096")), "",
			map[string]finding.Severity{RuleExternalMemory.ID: finding.Critical}},
		{"escape in a Loop body's Constant", withNodes(fx.ONNXNode{OpType: "Loop", Subgraphs: []fx.ONNXGraph{{
			Nodes: []fx.ONNXNode{{OpType: "Constant", Tensor: &fx.ONNXTensor{Name: "c", Location: true, External: [][2]string{{"location", "/proc/self/environ"}}}}}}}}),
			"", map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"escape not marked EXTERNAL is medium", withInit(fx.ONNXTensor{Name: "W2", External: [][2]string{{"location", "/etc/shadow"}}}), "",
			map[string]finding.Severity{RuleExternalEscape.ID: finding.Medium}},
		{"range past the end of the file", withInit(ext("W2", "weights.bin", "offset", "4000", "length", "1000")), dir,
			map[string]finding.Severity{RuleExternalRange.ID: finding.High}},
		{"offset past the end of the file", withInit(ext("W2", "weights.bin", "offset", "8192")), dir,
			map[string]finding.Severity{RuleExternalRange.ID: finding.High}},
		{"negative length", withInit(ext("W2", "weights.bin", "length", "-5")), dir, map[string]finding.Severity{RuleMalformed.ID: finding.Medium}},
		{"missing file", withInit(ext("W2", "nope.bin")), dir, map[string]finding.Severity{RuleExternalMissing.ID: finding.Low}},
		{"directory as data", withInit(ext("W2", "sub")), dir, map[string]finding.Severity{RuleExternalRange.ID: finding.High}},
		{"custom domain", withNodes(fx.ONNXNode{OpType: "Backdoor", Domain: "evil.ops"}), "", map[string]finding.Severity{RuleCustomDomain.ID: finding.Medium}},
		{"PyOp", withNodes(fx.ONNXNode{OpType: "PyOp", Domain: "ai.onnx.contrib"}), "", map[string]finding.Severity{RulePythonOp.ID: finding.High}},
		{"custom domain in a function body", fx.ONNXModel{Graph: fx.ONNXGraph{Nodes: []fx.ONNXNode{{OpType: "F", Domain: "local"}}},
			Functions: []fx.ONNXFunction{{Name: "F", Domain: "local", Nodes: []fx.ONNXNode{{OpType: "Shell", Domain: "evil.ops"}}}}}.Bytes(),
			"", map[string]finding.Severity{RuleCustomDomain.ID: finding.Medium}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := scan(t, tc.file, tc.dir)
			s := severities(got)
			if len(s) != len(tc.want) {
				t.Fatalf("got %v, want %v%s", s, tc.want, describe(got))
			}
			for k, v := range tc.want {
				if s[k] != v {
					t.Fatalf("got %v, want %v%s", s, tc.want, describe(got))
				}
			}
			for _, f := range got {
				if f.Location.Offset <= 0 || f.Location.Offset >= int64(len(tc.file)) || f.Detector != Detector || f.Message == "" {
					t.Errorf("bad finding%s", describe([]finding.Finding{f}))
				}
			}
		})
	}
}

func TestLocalPath(t *testing.T) {
	for loc, want := range map[string]bool{
		"weights.bin": true, "a/b/c.bin": true, "a/../b.bin": true, "./x": true,
		"": false, "/etc/passwd": false, "../x": false, "a/../../x": false, `..\x`: false,
		`C:\x`: false, `\\server\share\x`: false, "x\x00y": false, "c:x": false,
	} {
		if got := localPath(loc); got != want {
			t.Errorf("localPath(%q) = %v, want %v", loc, got, want)
		}
	}
}

func TestScanHostile(t *testing.T) {
	evil := withInit(ext("W2", "/etc/passwd"))
	huge := protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.BytesType), 1<<62)
	// Subgraphs nested 200 deep (Loop bodies).
	g := fx.ONNXGraph{Nodes: []fx.ONNXNode{{OpType: "Relu"}}}
	for range 200 {
		g = fx.ONNXGraph{Nodes: []fx.ONNXNode{{OpType: "Loop", Subgraphs: []fx.ONNXGraph{g}}}}
	}
	deep := fx.ONNXModel{Graph: g}.Bytes()
	longLoc := withInit(ext("W2", "/"+strings.Repeat("a", 100000)))
	tests := []struct {
		name string
		in   []byte
		want []string
	}{
		{"declared length 2^62", huge, []string{RuleMalformed.ID}},
		{"truncated after the tensor", evil[:len(evil)-2], []string{RuleExternalEscape.ID, RuleMalformed.ID}},
		{"subgraphs 200 deep", deep, []string{RuleMalformed.ID}},
		{"location of 100000 bytes", longLoc, []string{RuleExternalEscape.ID}},
		{"group wire type", []byte{0x3b, 0x3c}, []string{RuleMalformed.ID}},
		{"empty", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			for _, f := range scan(t, tc.in, "") {
				if !slices.Contains(ids, f.RuleID) {
					ids = append(ids, f.RuleID)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
		})
	}
	rng := rand.New(rand.NewPCG(5, 6))
	start := time.Now()
	for cut := range len(evil) {
		scan(t, evil[:cut], "")
	}
	for range 3000 {
		b := slices.Clone(evil)
		for range 1 + rng.IntN(6) {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		scan(t, b, "")
	}
	if d := time.Since(start); d > hangGuard {
		t.Errorf("hostile inputs took %v", d)
	}
}

// TestLargeTensorNotRead checks that tensor data is skipped, not read: a
// reader that fails inside the raw data must not be touched.
func TestLargeTensorNotRead(t *testing.T) {
	m := fx.BenignONNX()
	m.Graph.Initializers = append(m.Graph.Initializers, fx.ONNXTensor{Name: "big", Raw: make([]byte, 1<<20)})
	m.Graph.Nodes = append(m.Graph.Nodes, fx.ONNXNode{OpType: "X", Domain: "after.big"})
	b := m.Bytes()
	start := bytes.Index(b, make([]byte, 1<<19))
	r := &guardReader{b: b, from: int64(start) + 1<<17, to: int64(start) + 1<<19}
	fs, err := Scan(r, int64(len(b)), "")
	if err != nil {
		t.Fatal(err)
	}
	if s := severities(fs); len(s) != 1 || s[RuleCustomDomain.ID] != finding.Medium {
		t.Fatalf("the node after the tensor was not seen:%s", describe(fs))
	}
}

type guardReader struct {
	b        []byte
	from, to int64
}

func (g *guardReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= g.from && off < g.to {
		return 0, fmt.Errorf("read inside tensor data at %d", off)
	}
	return bytes.NewReader(g.b).ReadAt(p, off)
}

func TestRules(t *testing.T) {
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "model.onnx.") || r.Title == "" {
			t.Errorf("bad rule %+v", r)
		}
	}
}

func FuzzONNX(f *testing.F) {
	f.Add(fx.BenignONNX().Bytes())
	f.Add(withInit(ext("W2", "../x", "offset", "1", "length", "2")))
	f.Add(withNodes(fx.ONNXNode{OpType: "Loop", Subgraphs: []fx.ONNXGraph{{Nodes: []fx.ONNXNode{{OpType: "PyOp", Domain: "ai.onnx.contrib"}}}}}))
	f.Add(fx.ONNXModel{Graph: fx.ONNXGraph{Nodes: []fx.ONNXNode{{OpType: "F", Domain: "l"}}},
		Functions: []fx.ONNXFunction{{Name: "F", Domain: "l", Nodes: []fx.ONNXNode{{OpType: "Relu"}}}}}.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := Scan(bytes.NewReader(b), int64(len(b)), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.Location.Offset < 0 || f.Location.Offset > int64(len(b)) {
				t.Fatalf("offset %d outside [0, %d]", f.Location.Offset, len(b))
			}
		}
	})
}

// TestScanFiles reads models the onnx library wrote (testdata/gen_onnx.py).
func TestScanFiles(t *testing.T) {
	tests := []struct {
		file string
		want map[string]finding.Severity
	}{
		{"mlp.onnx", nil},
		{"external/model.onnx", nil},
		{"external/escape.onnx", map[string]finding.Severity{RuleExternalEscape.ID: finding.Critical}},
		{"custom_in_if.onnx", map[string]finding.Severity{RuleCustomDomain.ID: finding.Medium}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join("testdata", filepath.FromSlash(tc.file))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			got := scan(t, b, filepath.Dir(p))
			if s := severities(got); len(s) != len(tc.want) || !equal(s, tc.want) {
				t.Fatalf("got %v, want %v%s", s, tc.want, describe(got))
			}
		})
	}
}

func equal(a, b map[string]finding.Severity) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// BenchmarkScan walks a model with 10,000 nodes and a 64 MiB initializer;
// SetBytes counts the whole file, most of which is skipped.
func BenchmarkScan(b *testing.B) {
	m := fx.BenignONNX()
	for i := range 10000 {
		m.Graph.Nodes = append(m.Graph.Nodes, fx.ONNXNode{Name: fmt.Sprintf("n%d", i), OpType: "Relu"})
	}
	m.Graph.Initializers = append(m.Graph.Initializers, fx.ONNXTensor{Name: "big", Raw: make([]byte, 64<<20)})
	data := m.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if fs, err := Scan(bytes.NewReader(data), int64(len(data)), ""); err != nil || len(fs) != 0 {
			b.Fatal(err, describe(fs))
		}
	}
}

// TestCorpus checks the labels of the fixtures corpus for ONNX.
func TestCorpus(t *testing.T) {
	n := 0
	for _, s := range fx.Corpus() {
		if s.Format != fx.FormatONNX {
			continue
		}
		n++
		var ids []string
		got := scan(t, s.Data, "")
		for _, f := range got {
			if !slices.Contains(ids, f.RuleID) {
				ids = append(ids, f.RuleID)
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, s.Rules) {
			t.Errorf("%s: got %v, want %v%s", s.Name, ids, s.Rules, describe(got))
		}
	}
	if n < 8 {
		t.Errorf("only %d ONNX samples", n)
	}
}

// hangGuard is how long a hostile-input test may run before it counts as a
// hang: generous, because the race detector and a loaded machine slow the
// bounded work many times over.
const hangGuard = 60 * time.Second
