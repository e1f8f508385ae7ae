package pycode

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkCheck measures Check on a realistic modeling file of about
// 200 KB: the benign modeling and tokenization fixtures repeated.
func BenchmarkCheck(b *testing.B) {
	var one []byte
	for _, p := range []string{"testdata/benign/modeling_acme.py", "testdata/benign/tokenization_acme.py", "testdata/benign/acme_utils.py"} {
		src, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		one = append(one, src...)
	}
	src := bytes.Repeat(one, 200<<10/len(one)+1)
	if fs := Check("modeling_big.py", src); len(fs) != 0 {
		b.Fatalf("benign source: %d findings", len(fs))
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		Check("modeling_big.py", src)
	}
}
