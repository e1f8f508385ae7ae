package tokens

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tiktoken-go/tokenizer"
)

// benchTexts are the benchmark inputs: the first KiB and all 8 KiB of an
// English prompt, and a multilingual text (13 scripts and emoji).
func benchTexts(b *testing.B) []struct{ name, text string } {
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		return string(data)
	}
	english := read("english.txt")
	return []struct{ name, text string }{
		{"english-1KB", english[:1024]},
		{"english-8KB", english},
		{"multilingual-4KB", read("multilingual.txt")},
	}
}

func BenchmarkCount(b *testing.B) {
	for _, r := range refs {
		if err := r.enc.Load(); err != nil {
			b.Fatal(err)
		}
		ref, err := tokenizer.Get(tokenizer.Encoding(r.enc.Name()))
		if err != nil {
			b.Fatal(err)
		}
		for _, tt := range benchTexts(b) {
			b.Run(r.enc.Name()+"/"+tt.name+"/impl=tokens", func(b *testing.B) {
				b.SetBytes(int64(len(tt.text)))
				b.ReportAllocs()
				for b.Loop() {
					r.enc.Count(tt.text)
				}
			})
			b.Run(r.enc.Name()+"/"+tt.name+"/impl=nocache", func(b *testing.B) {
				b.SetBytes(int64(len(tt.text)))
				b.ReportAllocs()
				for b.Loop() {
					countNoCache(r.enc, tt.text)
				}
			})
			b.Run(r.enc.Name()+"/"+tt.name+"/impl=reference", func(b *testing.B) {
				b.SetBytes(int64(len(tt.text)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := ref.Count(tt.text); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// countNoCache is Count without the piece cache, to show what it saves.
func countNoCache(e *Encoding, s string) int {
	n := 0
	for p := 0; p < len(s); {
		end := e.split(s, p)
		piece := s[p:end]
		p = end
		if _, ok := e.ranks.rank(piece); ok {
			n++
		} else {
			n += e.ranks.count(piece)
		}
	}
	return n
}

func BenchmarkLoad(b *testing.B) {
	for _, r := range refs {
		b.Run(r.enc.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e := &Encoding{name: r.enc.name, split: r.enc.split, newCodec: r.enc.newCodec, size: r.enc.size}
				if err := e.Load(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
