package textnorm

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// mixedPrompts reads the project's mixed 4 KiB prompts.
func mixedPrompts(b *testing.B) []string { return mixedPromptsTB(b) }

func mixedPromptsTB(b testing.TB) []string {
	b.Helper()
	f, err := os.Open("../builtin/testdata/mixed-4k.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			b.Fatal(err)
		}
		out = append(out, rec.Text)
	}
	if len(out) == 0 {
		b.Fatal("no prompts")
	}
	return out
}

func totalLen(ss []string) int64 {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return int64(n)
}

func BenchmarkFoldMixed4K(b *testing.B) {
	ps := mixedPrompts(b)
	dst := make([]byte, 0, 16<<10)
	b.SetBytes(totalLen(ps))
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range ps {
			dst = Fold(dst[:0], s)
		}
	}
}

func BenchmarkJoinedMixed4K(b *testing.B) {
	ps := mixedPrompts(b)
	var folded [][]byte
	n := 0
	for _, s := range ps {
		f := Fold(nil, s)
		folded = append(folded, f)
		n += len(f)
	}
	dst := make([]byte, 0, 16<<10)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range folded {
			dst = Joined(dst[:0], f)
		}
	}
}

func BenchmarkDecodeMixed4K(b *testing.B) {
	ps := mixedPrompts(b)
	b.SetBytes(totalLen(ps))
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range ps {
			Decode(s, 3, 16)
		}
	}
}
