package keras

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/finding"
	fx "github.com/rampartsec/rampart/scan/model/internal/fixtures"
)

// ruleIDs returns the sorted, de-duplicated rule ids of fs.
func ruleIDs(fs []finding.Finding) []string {
	var ids []string
	for _, f := range fs {
		if !slices.Contains(ids, f.RuleID) {
			ids = append(ids, f.RuleID)
		}
	}
	slices.Sort(ids)
	return ids
}

func has(fs []finding.Finding, r *finding.Rule, excerpt string) bool {
	for _, f := range fs {
		if f.RuleID == r.ID && strings.Contains(f.Excerpt, excerpt) {
			return true
		}
	}
	return false
}

func TestScanConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  []byte
		want    *finding.Rule // nil: no finding at all
		excerpt string
	}{
		{"benign keras 2 sequential", fx.JSON(fx.Sequential(fx.Dense("a", 4), fx.Dense("b", 2))), nil, ""},
		{"benign keras 3 functional", fx.JSON(fx.Functional(fx.Dense3("a", 4), fx.Dense3("b", 2))), nil, ""},
		{"benign keras_nlp registered object", fx.JSON(fx.Functional(fx.Obj{"module": "keras_nlp.models", "class_name": "GPT2Backbone",
			"registered_name": "keras_nlp>GPT2Backbone", "config": fx.Obj{}})), nil, ""},
		{"benign keras 3 activation function", fx.JSON(fx.Sequential(fx.Obj{"module": "keras.layers", "class_name": "Dense",
			"config": fx.Obj{"activation": fx.Function3("keras.activations", "relu")}})), nil, ""},
		{"top-level lambda", fx.JSON(fx.Sequential(fx.Dense("a", 4), fx.Lambda("l", fx.LambdaOSSystem))), RuleLambda, "system"},
		{"lambda nested in TimeDistributed in Bidirectional in Functional",
			fx.JSON(fx.Functional(fx.Wrap("Bidirectional", fx.Wrap("TimeDistributed", fx.Lambda("l", fx.LambdaOSSystem))))), RuleLambda, "os"},
		{"lambda nested in a nested Sequential model",
			fx.JSON(fx.Sequential(fx.Dense("a", 1), fx.Sequential(fx.Sequential(fx.Lambda("l", fx.LambdaOSSystem))))), RuleLambda, "__import__"},
		{"lambda without dangerous names", fx.JSON(fx.Sequential(fx.Lambda("l", fx.LambdaDouble))), RuleLambda, "code names"},
		{"keras 3 __lambda__ object", fx.JSON(fx.Sequential(fx.Obj{"module": "keras.layers", "class_name": "Lambda",
			"config": fx.Obj{"function": fx.Obj{"class_name": "__lambda__", "config": fx.Obj{"value": []any{fx.LambdaOSSystem, nil, nil}}}}})), RuleLambda, "system"},
		{"builtins.exec as kernel_initializer", fx.JSON(fx.Sequential(fx.Obj{"module": "keras.layers", "class_name": "Dense",
			"config": fx.Obj{"kernel_initializer": fx.Obj{"module": "builtins", "class_name": "exec", "config": fx.Obj{}}}})), RuleDangerousCallable, "builtins.exec"},
		{"CVE-2025-1550 os.system function reference", fx.JSON(fx.Functional(fx.Obj{"module": "keras.layers", "class_name": "Activation",
			"config": fx.Obj{"activation": fx.Function3("os", "system")}})), RuleDangerousCallable, "os.system"},
		{"keras.utils.get_file inside the keras namespace", fx.JSON(fx.Sequential(fx.Obj{"module": "keras.layers", "class_name": "Dense",
			"config": fx.Obj{"activation": fx.Function3("keras.utils", "get_file")}})), RuleDangerousCallable, "get_file"},
		{"subprocess class with a dotted name", fx.JSON(fx.Sequential(fx.Obj{"module": "subprocess", "class_name": "Popen"})), RuleDangerousCallable, "subprocess.Popen"},
		{"keras 2 lambda naming os.system", fx.JSON(fx.Sequential(fx.LambdaByName("l", "os", "system"))), RuleDangerousCallable, "os.system"},
		{"foreign module", fx.JSON(fx.Sequential(fx.Obj{"module": "evilpkg.layers", "class_name": "Backdoor", "config": fx.Obj{}})), RuleForeignModule, "evilpkg.layers.Backdoor"},
		{"keras 3 registered custom object", fx.JSON(fx.Sequential(fx.Obj{"module": "keras.layers", "class_name": "MyLayer",
			"registered_name": "MyPackage>MyLayer", "config": fx.Obj{}})), RuleCustomObject, "MyPackage>MyLayer"},
		{"keras 2 registered custom object", fx.JSON(fx.Sequential(fx.Obj{"class_name": "Custom>Attention", "config": fx.Obj{}})), RuleCustomObject, "Custom>Attention"},
		{"marshalled code hidden in an unknown key", fx.JSON(fx.Sequential(fx.Obj{"class_name": "Dense", "config": fx.Obj{"note": fx.LambdaOSSystem}})), RuleEmbeddedCode, "system"},
		{"NaN does not hide a lambda", []byte(`{"class_name":"Sequential","config":{"x":NaN,"y":-Infinity,"layers":[` +
			string(fx.JSON(fx.Lambda("l", fx.LambdaOSSystem))) + `]}}`), RuleLambda, "system"},
		{"duplicate keys: the shadowed lambda is still reported", []byte(`{"class_name":"Sequential","config":{"layers":[` +
			string(fx.JSON(fx.Lambda("l", fx.LambdaOSSystem))) + `],"layers":[]}}`), RuleLambda, "system"},
		{"not JSON", []byte("\x00\x01garbage"), RuleMalformed, ""},
		{"trailing data", []byte(`{"class_name":"Sequential"} {}`), RuleMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ScanConfig(tc.config)
			if tc.want == nil {
				if len(got) != 0 {
					t.Fatalf("want no findings, got %v", describe(got))
				}
				return
			}
			if !has(got, tc.want, tc.excerpt) {
				t.Fatalf("want %s with excerpt containing %q, got %v", tc.want.ID, tc.excerpt, describe(got))
			}
			for _, f := range got {
				if f.Detector != Detector || f.Layer != finding.LayerModelWeights || f.Message == "" {
					t.Errorf("incomplete finding %+v", f)
				}
				if f.Location.Offset < 0 || f.Location.Offset > int64(len(tc.config)) {
					t.Errorf("offset %d outside the config", f.Location.Offset)
				}
			}
		})
	}
}

func describe(fs []finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s %s @%d %q: %s", f.RuleID, f.Severity, f.Location.Offset, f.Excerpt, f.Message)
	}
	return b.String()
}

func TestLambdaNamesDangerousCode(t *testing.T) {
	got := ScanConfig(fx.JSON(fx.Sequential(fx.Lambda("l", fx.LambdaOSSystem))))
	if len(got) != 1 {
		t.Fatalf("want one finding, got %v", describe(got))
	}
	f := got[0]
	if f.Severity != finding.Critical || !strings.Contains(f.Message, "system") || !strings.Contains(f.Message, "__import__") {
		t.Errorf("finding does not name the payload: %v", describe(got))
	}
	benign := ScanConfig(fx.JSON(fx.Sequential(fx.Lambda("l", fx.LambdaDouble))))
	if len(benign) != 1 || strings.Contains(benign[0].Message, "names") {
		t.Errorf("benign lambda code should be reported without dangerous names: %v", describe(benign))
	}
}

func TestKeras3LambdaReportedOnce(t *testing.T) {
	cfg := fx.JSON(fx.Sequential(fx.Obj{"module": "keras.layers", "class_name": "Lambda",
		"config": fx.Obj{"function": fx.Obj{"class_name": "__lambda__", "config": fx.Obj{"value": []any{fx.LambdaOSSystem, nil, nil}}}}}))
	if got := ScanConfig(cfg); len(got) != 1 || got[0].RuleID != RuleLambda.ID {
		t.Fatalf("want one lambda finding:%s", describe(got))
	}
}

func TestScanConfigHostile(t *testing.T) {
	deepLambda := fx.JSON(fx.Nested(60, fx.Lambda("l", fx.LambdaOSSystem)))
	tooDeep := []byte(strings.Repeat(`{"a":`, 5000) + strings.Repeat("}", 5000))
	tooDeepArrays := []byte(strings.Repeat("[", 100000))
	full := fx.JSON(fx.Sequential(fx.Dense("a", 1), fx.Lambda("l", fx.LambdaOSSystem), fx.Dense("b", 1)))
	cut := full[:bytes.LastIndex(full, []byte(`{"class_name":"Dense"`))+5]
	tests := []struct {
		name string
		in   []byte
		want []string
	}{
		{"lambda under 60 wrappers", deepLambda, []string{RuleLambda.ID}},
		{"objects nested 5000 deep", tooDeep, []string{RuleMalformed.ID}},
		{"100000 open arrays", tooDeepArrays, []string{RuleMalformed.ID}},
		{"truncated after the lambda", cut, []string{RuleLambda.ID, RuleMalformed.ID}},
		{"empty", nil, []string{RuleMalformed.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			got := ruleIDs(ScanConfig(tc.in))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got rules %v, want %v", got, tc.want)
			}
			if d := time.Since(start); d > hangGuard {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "model.keras.") || seen[r.ID] || r.Title == "" || r.Remediation == "" {
			t.Errorf("bad or duplicate rule %+v", r)
		}
		seen[r.ID] = true
	}
}

func scanH5(t *testing.T, b []byte) []finding.Finding {
	t.Helper()
	fs, err := ScanH5(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("ScanH5: %v", err)
	}
	return fs
}

// TestScanH5Files reads files h5py wrote (testdata/gen_h5.py): superblock
// version 0 with fixed-length string attributes, superblock version 3
// with version 2 object headers and variable-length strings in a global
// heap, and dense attribute storage.
func TestScanH5Files(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"benign.h5", nil},
		{"benign_vlen_latest.h5", nil},
		{"lambda.h5", []string{RuleLambda.ID}},
		{"lambda_vlen_latest.h5", []string{RuleLambda.ID}},
		{"lambda_dense_attrs.h5", []string{RuleLambda.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !IsH5(bytes.NewReader(b), int64(len(b))) {
				t.Fatal("IsH5 = false")
			}
			got := scanH5(t, b)
			if ids := ruleIDs(got); !slices.Equal(ids, tc.want) {
				t.Fatalf("got %v, want %v%s", ids, tc.want, describe(got))
			}
			for _, f := range got {
				// The offset points into the file, at the config's JSON.
				if f.Location.Offset <= 0 || f.Location.Offset >= int64(len(b)) || b[f.Location.Offset] != '{' && b[f.Location.Offset-1] != '{' && b[f.Location.Offset] != ',' {
					t.Errorf("offset %d does not point at the layer: %q", f.Location.Offset, b[f.Location.Offset:min(len(b), int(f.Location.Offset)+20)])
				}
			}
		})
	}
}

func TestScanH5Built(t *testing.T) {
	lambda := string(fx.JSON(fx.Sequential(fx.Lambda("l", fx.LambdaOSSystem))))
	benign := string(fx.JSON(fx.Sequential(fx.Dense("a", 1))))
	exec := string(fx.JSON(fx.Sequential(fx.Obj{"module": "keras.layers", "class_name": "Dense",
		"config": fx.Obj{"kernel_initializer": fx.Obj{"module": "builtins", "class_name": "exec"}}})))
	tests := []struct {
		name string
		h5   fx.H5
		want []string
	}{
		{"benign fixed", fx.H5{Attrs: []fx.H5Attr{{Name: "keras_version", Value: "2.15.0"}, {Name: "model_config", Value: benign}}}, nil},
		{"benign vlen", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: benign, VarLen: true}}}, nil},
		{"weights only", fx.H5{Attrs: []fx.H5Attr{{Name: "keras_version", Value: "2.15.0"}}}, nil},
		{"lambda fixed", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: lambda}}}, []string{RuleLambda.ID}},
		{"lambda vlen", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: lambda, VarLen: true}}}, []string{RuleLambda.ID}},
		{"exec in training_config", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: benign}, {Name: "training_config", Value: exec, VarLen: true}}}, []string{RuleDangerousCallable.ID}},
		{"duplicate model_config, second one evil", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: benign}, {Name: "model_config", Value: lambda, VarLen: true}}}, []string{RuleLambda.ID}},
		{"continuation loop", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: lambda}}, LoopContinuation: true}, []string{RuleH5Malformed.ID, RuleLambda.ID}},
		{"global heap of 2^60 bytes", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: lambda, VarLen: true}}, HugeHeap: true}, []string{RuleH5Malformed.ID, RuleLambda.ID}},
		{"object header chunk of 2^31 bytes", fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: lambda}}, HugeMessage: true}, []string{RuleH5Malformed.ID, RuleLambda.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := scanH5(t, tc.h5.Bytes())
			if ids := ruleIDs(got); !slices.Equal(ids, tc.want) {
				t.Fatalf("got %v, want %v%s", ids, tc.want, describe(got))
			}
		})
	}
}

// TestScanH5Hostile cuts and corrupts real files: every outcome must be
// findings or nothing, never a panic, an error (the reader never fails) or
// a long run.
func TestScanH5Hostile(t *testing.T) {
	var seeds [][]byte
	for _, f := range []string{"lambda.h5", "lambda_vlen_latest.h5", "lambda_dense_attrs.h5"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	seeds = append(seeds, fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: "{}", VarLen: true}}}.Bytes())
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	n := 0
	for _, seed := range seeds {
		for cut := 0; cut < len(seed); cut += 7 {
			scanH5(t, seed[:cut])
			n++
		}
		for range 300 {
			b := slices.Clone(seed)
			for range 1 + rng.IntN(8) {
				b[rng.IntN(len(b))] = byte(rng.Uint32())
			}
			scanH5(t, b)
			n++
		}
	}
	if got := scanH5(t, []byte("not an hdf5 file at all")); !slices.Equal(ruleIDs(got), []string{RuleH5Malformed.ID}) {
		t.Errorf("garbage: got %v", describe(got))
	}
	t.Logf("%d hostile inputs in %v", n, time.Since(start))
}

// TestScanH5RawScanBounded: a broken file full of unterminated config
// candidates costs a bounded amount of reading.
func TestScanH5RawScanBounded(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("\x89HDF\r\n\x1a\n")
	b.Write(make([]byte, 100))
	for b.Len() < 8<<20 {
		b.WriteString(`{"class_name":"`)
		b.Write(bytes.Repeat([]byte("a"), 64<<10))
	}
	r := &countingReader{r: bytes.NewReader(b.Bytes())}
	got, err := ScanH5(r, int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if ids := ruleIDs(got); !slices.Equal(ids, []string{RuleH5Malformed.ID}) {
		t.Errorf("got %v", ids)
	}
	// The search window over the file, plus at most 2×MaxConfigSize for
	// all candidates together, plus a little metadata.
	if limit := int64(b.Len()) + 2*MaxConfigSize + 1<<20; r.n > limit {
		t.Errorf("read %d bytes, more than %d", r.n, limit)
	}
}

type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, fmt.Errorf("disk on fire") }

func TestScanH5IOError(t *testing.T) {
	if _, err := ScanH5(failingReader{}, 4096); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("want the reader's error, got %v", err)
	}
}

func FuzzScanConfig(f *testing.F) {
	f.Add(fx.JSON(fx.Sequential(fx.Dense("a", 1), fx.Lambda("l", fx.LambdaOSSystem))))
	f.Add(fx.JSON(fx.Functional(fx.Wrap("Bidirectional", fx.Dense3("a", 2)))))
	f.Add(fx.JSON(fx.Sequential(fx.Obj{"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"})))
	f.Add([]byte(`{"a":NaN,"b":[-Infinity,{"class_name":"Custom>X"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, f := range ScanConfig(b) {
			if f.Location.Offset < 0 || f.Location.Offset > int64(len(b)) {
				t.Fatalf("offset %d outside [0, %d]", f.Location.Offset, len(b))
			}
		}
	})
}

func FuzzScanH5(f *testing.F) {
	for _, name := range []string{"lambda.h5", "lambda_vlen_latest.h5", "lambda_dense_attrs.h5"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(fx.H5{Attrs: []fx.H5Attr{{Name: "model_config", Value: "{}", VarLen: true}}, LoopContinuation: true}.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ScanH5(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatalf("ScanH5 over memory failed: %v", err)
		}
		IsKerasH5(bytes.NewReader(b), int64(len(b))) // must not panic or hang
	})
}

func BenchmarkScanConfig(b *testing.B) {
	var layers []fx.Obj
	for i := range 3000 {
		layers = append(layers, fx.Dense3(fmt.Sprintf("d%d", i), 8))
	}
	cfg := fx.JSON(fx.Functional(layers...))
	b.SetBytes(int64(len(cfg)))
	b.ReportAllocs()
	for b.Loop() {
		if fs := ScanConfig(cfg); len(fs) != 0 {
			b.Fatal(describe(fs))
		}
	}
}

func BenchmarkScanH5(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "lambda_vlen_latest.h5"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ScanH5(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCorpus checks the labels of the fixtures corpus for Keras formats.
func TestCorpus(t *testing.T) {
	n := 0
	for _, s := range fx.Corpus() {
		var got []finding.Finding
		switch s.Format {
		case fx.FormatKerasConfig:
			got = ScanConfig(s.Data)
		case fx.FormatH5:
			got = scanH5(t, s.Data)
		default:
			continue
		}
		n++
		if ids := ruleIDs(got); !slices.Equal(ids, s.Rules) {
			t.Errorf("%s: got %v, want %v%s", s.Name, ids, s.Rules, describe(got))
		}
	}
	if n < 10 {
		t.Errorf("only %d Keras samples", n)
	}
}

// hangGuard is how long a hostile-input test may run before it counts as a
// hang: generous, because the race detector and a loaded machine slow the
// bounded work many times over.
const hangGuard = 60 * time.Second

func TestIsKerasH5(t *testing.T) {
	benign := string(fx.JSON(fx.Sequential(fx.Dense("a", 1))))
	tests := []struct {
		name string
		h5   fx.H5
		want bool
	}{
		{"whole model", fx.H5{Attrs: []fx.H5Attr{{Name: "keras_version", Value: "2.15.0"}, {Name: "model_config", Value: benign}}}, true},
		{"weights only", fx.H5{Attrs: []fx.H5Attr{{Name: "layer_names", Value: "dense"}}}, true},
		{"data file", fx.H5{Attrs: []fx.H5Attr{{Name: "title", Value: "sensor readings"}, {Name: "units", Value: "m/s"}}}, false},
		{"no attributes", fx.H5{}, false},
		{"broken structure counts as Keras", fx.H5{Attrs: []fx.H5Attr{{Name: "title", Value: "x"}}, LoopContinuation: true}, true},
	}
	for _, tc := range tests {
		b := tc.h5.Bytes()
		if got := IsKerasH5(bytes.NewReader(b), int64(len(b))); got != tc.want {
			t.Errorf("%s: IsKerasH5 = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, name := range []string{"benign.h5", "lambda.h5", "lambda_dense_attrs.h5"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !IsKerasH5(bytes.NewReader(b), int64(len(b))) {
			t.Errorf("%s (saved by Keras): IsKerasH5 = false", name)
		}
	}
}
