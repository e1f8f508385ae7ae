package pyload

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkCheck measures Check on the training script repeated to about
// 200 KB.
func BenchmarkCheck(b *testing.B) {
	src, err := os.ReadFile("testdata/train.py")
	if err != nil {
		b.Fatal(err)
	}
	big := bytes.Repeat(src, 200<<10/len(src)+1)
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		Check("train.py", big)
	}
}
