package pickle_test

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/rampartsec/rampart/internal/cputime"
	"github.com/rampartsec/rampart/scan/model/pickle"
	pt "github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

// arrays returns a protocol 4 pickle of a dict of n float32 NumPy arrays
// of size bytes each, as pickle.dump writes them: the array data sits in
// BINBYTES inside the pickle.
func arrays(n, size int) []byte {
	w := pt.New(4)
	w.EmptyDict().Memo().Mark()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for i := range n {
		w.Str(fmt.Sprintf("layer%d.weight", i)).Memo()
		w.GlobalMemo("numpy.core.multiarray", "_reconstruct")
		w.TupleOf(pt.G("numpy", "ndarray"), func(w *pt.Writer) { w.Int(0).Tuple1() }, func(w *pt.Writer) { w.BytesVal([]byte("b")) }).Reduce().Memo()
		w.Mark().Int(1).Int(int64(size / 4)).Tuple1().Memo()
		w.GlobalMemo("numpy", "dtype").TupleOf(pt.S("f4"), pt.B(false), pt.B(true)).Reduce().Memo()
		w.Mark().Int(3).Str("<").None().None().None().Int(-1).Int(-1).Int(0).Tuple().Build()
		w.Bool(false).BytesVal(data).Tuple().Build()
	}
	return w.SetItems().Stop().Bytes()
}

func BenchmarkScan(b *testing.B) {
	tensors := make([]pt.Tensor, 20000)
	for i := range tensors {
		tensors[i] = pt.Tensor{Name: fmt.Sprintf("model.layers.%d.mlp.weight", i), Shape: []int64{64, 64}}
	}
	cases := []struct {
		name string
		data []byte
		seek bool // let Scan seek over trailing bytes
	}{
		{"ops-intdict-1M", pt.IntDict(1 << 20), false},
		{"ops-torch-20k-tensors", pt.TorchDataPkl(tensors), false},
		{"bytes-numpy-64MB", arrays(64, 1<<20), false},
		{"legacy-torch-64MB-read", pt.TorchLegacy([]pt.Tensor{{Name: "w", Shape: []int64{16 << 20}}}, nil), false},
		{"legacy-torch-64MB-seek", pt.TorchLegacy([]pt.Tensor{{Name: "w", Shape: []int64{16 << 20}}}, nil), true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0, n := cputime.Now(), 0
			for b.Loop() {
				var r io.Reader = bytes.NewReader(c.data)
				if !c.seek {
					r = struct{ io.Reader }{r} // hide io.Seeker
				}
				res, err := pickle.Scan(r, pickle.Options{})
				if err != nil || len(res.Findings) != 0 {
					b.Fatalf("err %v findings %v", err, rules(res))
				}
				n++
			}
			// CPU time of this thread: the machine the benchmarks run on
			// is shared, so wall time overstates the cost.
			if cpu := cputime.Now() - cpu0; cpu > 0 && n > 0 {
				b.ReportMetric(float64(len(c.data))*float64(n)/cpu.Seconds()/1e6, "cpu-MB/s")
			}
		})
	}
}
