package textnorm

import (
	"os"
	"testing"
)

func benchText(b *testing.B, name string) string {
	b.Helper()
	t, err := os.ReadFile("testdata/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return string(t[:4096])
}

func BenchmarkFold(b *testing.B) {
	for _, name := range []string{"prose_en.txt", "prose_mixed.txt"} {
		b.Run(name, func(b *testing.B) {
			s := benchText(b, name)
			dst := make([]byte, 0, 2*len(s))
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				dst = Fold(dst[:0], s)
			}
		})
	}
}

func BenchmarkJoined(b *testing.B) {
	f := Fold(nil, benchText(b, "prose_en.txt"))
	dst := make([]byte, 0, 2*len(f))
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		dst = Joined(dst[:0], f)
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"prose_en.txt", "prose_mixed.txt"} {
		b.Run(name, func(b *testing.B) {
			s := benchText(b, name)
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				Decode(s, 3, 16)
			}
		})
	}
}

func BenchmarkInvisible(b *testing.B) {
	s := benchText(b, "prose_mixed.txt")
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Invisible(s)
	}
}
