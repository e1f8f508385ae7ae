package savedmodel

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rampartsec/rampart/finding"
	fx "github.com/rampartsec/rampart/scan/model/internal/fixtures"
	"github.com/rampartsec/rampart/scan/model/keras"
)

func scan(t testing.TB, b []byte) []finding.Finding {
	t.Helper()
	fs, err := Scan(bytes.NewReader(b), int64(len(b)))
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

// severities maps the rule ids of fs to their severities.
func severities(fs []finding.Finding) map[string]finding.Severity {
	m := map[string]finding.Severity{}
	for _, f := range fs {
		m[f.RuleID] = f.Severity
	}
	return m
}

func with(g fx.TFGraph, fn func(*fx.TFGraph)) fx.TFGraph {
	g.Nodes = slices.Clone(g.Nodes)
	g.Functions = slices.Clone(g.Functions)
	fn(&g)
	return g
}

func TestScan(t *testing.T) {
	benign := fx.BenignTFGraph()
	lambda := string(fx.JSON(fx.Sequential(fx.Lambda("l", fx.LambdaOSSystem))))
	tests := []struct {
		name    string
		file    []byte
		want    map[string]finding.Severity // rule id → severity; benign files may only add checkpoint-io
		excerpt string
	}{
		{"benign SavedModel", fx.SavedModel(benign), map[string]finding.Severity{RuleCheckpointIO.ID: finding.Info}, "SaveV2"},
		{"benign frozen GraphDef", benign.Bytes(), map[string]finding.Severity{RuleCheckpointIO.ID: finding.Info}, "RestoreV2"},
		{"benign SavedModel with Keras metadata", fx.SavedModel(benign, string(fx.JSON(fx.Sequential(fx.Dense("a", 2))))),
			map[string]finding.Severity{RuleCheckpointIO.ID: finding.Info}, ""},
		{"PyFunc in a library function", fx.SavedModel(with(benign, func(g *fx.TFGraph) {
			g.Functions = append(g.Functions, fx.TFFunction{Name: "__inference_py_7", Nodes: []fx.TFNode{{Name: "cb", Op: "PyFunc"}}})
		})), map[string]finding.Severity{RuleCheckpointIO.ID: finding.Info, RulePyFunc.ID: finding.Critical}, "PyFunc cb"},
		{"EagerPyFunc at top level", fx.SavedModel(with(benign, func(g *fx.TFGraph) {
			g.Nodes = append(g.Nodes, fx.TFNode{Name: "e", Op: "EagerPyFunc"})
		})), map[string]finding.Severity{RuleCheckpointIO.ID: finding.Info, RulePyFunc.ID: finding.Critical}, "EagerPyFunc"},
		{"WriteFile at top level", fx.SavedModel(with(benign, func(g *fx.TFGraph) {
			g.Nodes = append(g.Nodes, fx.TFNode{Name: "drop", Op: "WriteFile"})
		})), map[string]finding.Severity{RuleCheckpointIO.ID: finding.Info, RuleFileAccess.ID: finding.High}, "WriteFile drop"},
		{"ReadFile in a frozen graph", fx.TFGraph{Nodes: []fx.TFNode{{Name: "r", Op: "ReadFile"}, {Name: "m", Op: "MatMul"}}}.Bytes(),
			map[string]finding.Severity{RuleFileAccess.ID: finding.High}, "ReadFile"},
		{"PrintV2 to a file", fx.SavedModel(fx.TFGraph{Nodes: []fx.TFNode{{Name: "p", Op: "PrintV2",
			StringAttrs: map[string]string{"output_stream": "file:///home/user/.bashrc"}}}}),
			map[string]finding.Severity{RuleFileAccess.ID: finding.High}, ".bashrc"},
		{"DebugIdentity to a file", fx.SavedModel(fx.TFGraph{Nodes: []fx.TFNode{{Name: "d", Op: "DebugIdentity",
			ListAttrs: map[string][]string{"debug_urls": {"file:///tmp/x"}}}}}),
			map[string]finding.Severity{RuleFileAccess.ID: finding.High}, "debug_urls"},
		{"network op", fx.SavedModel(fx.TFGraph{Nodes: []fx.TFNode{{Name: "rpc", Op: "TryRpc"}}}),
			map[string]finding.Severity{RuleNetwork.ID: finding.High}, "TryRpc"},
		{"custom op", fx.SavedModel(fx.TFGraph{Nodes: []fx.TFNode{{Name: "g", Op: "Addons>GeLU"}}}),
			map[string]finding.Severity{RuleCustomOp.ID: finding.Medium}, "Addons>GeLU"},
		{"Keras Lambda in the object graph", fx.SavedModel(benign, lambda),
			map[string]finding.Severity{RuleCheckpointIO.ID: finding.Info, keras.RuleLambda.ID: finding.Critical}, "system"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := scan(t, tc.file)
			if s := severities(got); !maps(s, tc.want) {
				t.Fatalf("got %v, want %v%s", s, tc.want, describe(got))
			}
			found := tc.excerpt == ""
			for _, f := range got {
				found = found || strings.Contains(f.Excerpt, tc.excerpt)
				if f.Location.Offset <= 0 || f.Location.Offset >= int64(len(tc.file)) {
					t.Errorf("offset %d outside the file", f.Location.Offset)
				}
			}
			if !found {
				t.Errorf("no excerpt contains %q%s", tc.excerpt, describe(got))
			}
		})
	}
}

func maps(a, b map[string]finding.Severity) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCheckpointOpsStayLow makes sure a normal SavedModel never reaches low.
func TestCheckpointOpsStayLow(t *testing.T) {
	for _, f := range scan(t, fx.SavedModel(fx.BenignTFGraph())) {
		if f.Severity > finding.Low {
			t.Errorf("benign SavedModel finding above low:%s", describe([]finding.Finding{f}))
		}
	}
}

func TestGroupedOccurrences(t *testing.T) {
	g := fx.TFGraph{}
	for i := range 50 {
		g.Nodes = append(g.Nodes, fx.TFNode{Name: fmt.Sprintf("w%d", i), Op: "WriteFile"})
	}
	got := scan(t, fx.SavedModel(g))
	if len(got) != 1 || !strings.Contains(got[0].Message, "50 occurrences") || strings.Count(got[0].Excerpt, "WriteFile") != maxExamples {
		t.Fatalf("want one grouped finding:%s", describe(got))
	}
}

func TestScanKerasMetadata(t *testing.T) {
	benign := fx.KerasMetadata(string(fx.JSON(fx.Sequential(fx.Dense("a", 1)))))
	evil := fx.KerasMetadata(string(fx.JSON(fx.Sequential(fx.Dense("a", 1)))),
		string(fx.JSON(fx.Functional(fx.Wrap("Bidirectional", fx.Lambda("l", fx.LambdaOSSystem))))))
	if fs, err := ScanKerasMetadata(bytes.NewReader(benign), int64(len(benign))); err != nil || len(fs) != 0 {
		t.Fatalf("benign: %v%s", err, describe(fs))
	}
	fs, err := ScanKerasMetadata(bytes.NewReader(evil), int64(len(evil)))
	if err != nil || len(fs) != 1 || fs[0].RuleID != keras.RuleLambda.ID {
		t.Fatalf("evil: %v%s", err, describe(fs))
	}
	if o := fs[0].Location.Offset; o <= 0 || evil[o] != '{' {
		t.Errorf("offset %d does not point at the layer", o)
	}
}

func TestScanHostile(t *testing.T) {
	evil := fx.SavedModel(with(fx.BenignTFGraph(), func(g *fx.TFGraph) {
		g.Nodes = append(g.Nodes, fx.TFNode{Name: "cb", Op: "PyFunc"})
	}))
	huge := protowire.AppendTag(nil, 2, protowire.BytesType)
	huge = protowire.AppendVarint(huge, 1<<62)
	deep := []byte{}
	for range 10000 {
		deep = append(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.BytesType), uint64(len(deep))), deep...)
	}
	deep = append(protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.BytesType), uint64(len(deep))), deep...)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"declared length 2^62", huge, RuleMalformed.ID},
		{"truncated", evil[:len(evil)-3], RuleMalformed.ID},
		{"object graph nested 10000 deep", deep, ""},
		{"garbage", []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), RuleMalformed.ID},
		{"empty", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := scan(t, tc.in)
			if tc.want == "" && len(got) != 0 || tc.want != "" && (len(got) == 0 || got[0].RuleID != tc.want) {
				t.Fatalf("want %q:%s", tc.want, describe(got))
			}
		})
	}
	// Every cut and random corruption: findings or nothing, never a panic.
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Now()
	for cut := range len(evil) {
		scan(t, evil[:cut])
	}
	for range 2000 {
		b := slices.Clone(evil)
		for range 1 + rng.IntN(6) {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		scan(t, b)
	}
	if d := time.Since(start); d > hangGuard {
		t.Errorf("hostile inputs took %v", d)
	}
}

func TestRules(t *testing.T) {
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "model.savedmodel.") || r.Title == "" {
			t.Errorf("bad rule %+v", r)
		}
	}
}

func FuzzSavedModel(f *testing.F) {
	f.Add(fx.SavedModel(fx.BenignTFGraph()))
	f.Add(fx.SavedModel(fx.TFGraph{Nodes: []fx.TFNode{{Name: "p", Op: "PrintV2", StringAttrs: map[string]string{"output_stream": "file:///x"}}}},
		string(fx.JSON(fx.Sequential(fx.Lambda("l", fx.LambdaOSSystem))))))
	f.Add(fx.TFGraph{Nodes: []fx.TFNode{{Name: "r", Op: "ReadFile"}}, Functions: []fx.TFFunction{{Name: "f", Nodes: []fx.TFNode{{Op: "PyFunc"}}}}}.Bytes())
	f.Add(fx.KerasMetadata(string(fx.JSON(fx.Sequential(fx.Dense("a", 1))))))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, scanFn := range []func([]byte) ([]finding.Finding, error){
			func(b []byte) ([]finding.Finding, error) { return Scan(bytes.NewReader(b), int64(len(b))) },
			func(b []byte) ([]finding.Finding, error) { return ScanKerasMetadata(bytes.NewReader(b), int64(len(b))) },
		} {
			fs, err := scanFn(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.Location.Offset < 0 || f.Location.Offset > int64(len(b)) {
					t.Fatalf("offset %d outside [0, %d]", f.Location.Offset, len(b))
				}
			}
		}
	})
}

// BenchmarkScan walks a SavedModel of 20,000 nodes in 200 functions, one
// node carrying a 64 MiB string attribute (which is skipped).
func BenchmarkScan(b *testing.B) {
	g := fx.BenignTFGraph()
	for i := range 200 {
		fn := fx.TFFunction{Name: fmt.Sprintf("__inference_f_%d", i)}
		for j := range 100 {
			fn.Nodes = append(fn.Nodes, fx.TFNode{Name: fmt.Sprintf("n%d", j), Op: "MatMul",
				StringAttrs: map[string]string{"T": "float"}})
		}
		g.Functions = append(g.Functions, fn)
	}
	g.Nodes = append(g.Nodes, fx.TFNode{Name: "const", Op: "Const", StringAttrs: map[string]string{"value": strings.Repeat("x", 64<<20)}})
	data := fx.SavedModel(g)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		fs, err := Scan(bytes.NewReader(data), int64(len(data)))
		if err != nil || len(fs) != 3 { // SaveV2, RestoreV2, MergeV2Checkpoints (info)
			b.Fatal(err, describe(fs))
		}
	}
}

// TestCorpus checks the labels of the fixtures corpus for TensorFlow
// formats.
func TestCorpus(t *testing.T) {
	n := 0
	for _, s := range fx.Corpus() {
		var got []finding.Finding
		var err error
		switch s.Format {
		case fx.FormatSavedModel, fx.FormatGraphDef:
			got, err = Scan(bytes.NewReader(s.Data), int64(len(s.Data)))
		case fx.FormatKerasMetadata:
			got, err = ScanKerasMetadata(bytes.NewReader(s.Data), int64(len(s.Data)))
		default:
			continue
		}
		n++
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
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
		t.Errorf("only %d TensorFlow samples", n)
	}
}

// hangGuard is how long a hostile-input test may run before it counts as a
// hang: generous, because the race detector and a loaded machine slow the
// bounded work many times over.
const hangGuard = 60 * time.Second
