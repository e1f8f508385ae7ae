package pickle_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/scan/model/pickle"
	pt "github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

// FuzzScan runs the interpreter on arbitrary bytes: it must not panic or
// return an error for in-memory input, every finding's offset must lie in
// the input, and the result must not depend on how the input is split
// into reads.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("testdata/picklescan/files/*/*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Add(pt.TorchDataPkl([]pt.Tensor{{Name: "w", Shape: []int64{2, 2}}}))
	f.Add(pt.TorchLegacy([]pt.Tensor{{Name: "w", Shape: []int64{2}}}, nil))
	f.Add(pt.NumpyObjectArray([]string{"a"}, 0))
	f.Add(pt.Joblib([]pt.JoblibArray{{Name: "w", Float64: []float64{1}}, {Name: "o", Objects: []string{"x"}}}, nil))
	f.Add(jobObjPayload())
	f.Add(jobArrayBytesPayload())
	f.Add(pt.New(4).StackGlobal("os", "system").Ext(7).Stop().Bytes())
	lim := pickle.Limits{MaxStack: 64, MaxMemo: 64, MaxString: 64, MaxLine: 64, MaxKeep: 8, MaxValues: 256, MaxOps: 1 << 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := pickle.Scan(bytes.NewReader(b), pickle.Options{Limits: lim})
		if err != nil {
			t.Fatalf("error on in-memory input: %v", err)
		}
		for _, fd := range res.Findings {
			if fd.Location.Offset < 0 || fd.Location.Offset > int64(len(b)) {
				t.Fatalf("finding %s at offset %d outside %d bytes", fd.RuleID, fd.Location.Offset, len(b))
			}
		}
		res2, err := pickle.Scan(oneByte{bytes.NewReader(b)}, pickle.Options{Limits: lim})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := fmt.Sprint(rules(res), res.Globals, res.Pickles), fmt.Sprint(rules(res2), res2.Globals, res2.Pickles); a != b {
			t.Fatalf("one-byte reads differ:\n%s\n%s", a, b)
		}
	})
}
