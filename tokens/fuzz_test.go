package tokens

import "testing"

// FuzzCountMatchesReference checks Count against github.com/tiktoken-go/tokenizer
// (or, where its generated matcher deviates from the split pattern, against
// the interpreted pattern and a naive merge) on arbitrary strings, for both
// encodings, and the split against the interpreted pattern.
func FuzzCountMatchesReference(f *testing.F) {
	for _, s := range edgeCases {
		if len(s) <= 256 {
			f.Add(s)
		}
	}
	for _, s := range atoms {
		f.Add(s + s + " " + s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1024 {
			return // keep the naive merge, which is quadratic, fast
		}
		for _, r := range refs {
			r.check(t, s)
		}
	})
}
