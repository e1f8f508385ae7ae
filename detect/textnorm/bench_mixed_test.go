package textnorm

import (
	"testing"

	"github.com/rampartsec/rampart/detect/detecttest"
)

// mixedPrompts reads the project's mixed 4 KiB prompts.
func mixedPrompts(b *testing.B) []string {
	return detecttest.Texts(b, "../builtin/testdata/mixed-4k.jsonl")
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
