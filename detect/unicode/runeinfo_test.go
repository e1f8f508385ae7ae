package unicode

import (
	"testing"
	stdunicode "unicode"
)

// TestRuneInfo checks the precomputed table against the unicode package
// and letterClass for every code point.
func TestRuneInfo(t *testing.T) {
	for r := rune(0); r <= stdunicode.MaxRune+1; r++ {
		var want uint8
		if stdunicode.IsLetter(r) {
			want = fLetter | letterClass(r)<<clsShift
		}
		if stdunicode.IsMark(r) {
			want |= fMark
		}
		if got := runeInfo(r); got != want {
			t.Fatalf("runeInfo(%U) = %#x, want %#x", r, got, want)
		}
	}
}
