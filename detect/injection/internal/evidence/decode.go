package evidence

import (
	"strings"

	"github.com/rampartsec/rampart/detect/textnorm"
)

// Payload limits.
const (
	// MaxPayloads is the most decoded runs scored per text.
	MaxPayloads = 4
	// payloadDepth is how many layers of encoding are undone.
	payloadDepth = 2
	// minRun is the shortest base64 or hex run textnorm.Decode decodes.
	minRun = 16
)

// b64 marks the bytes of the base64 alphabets (standard and URL) and the
// padding character.
var b64 = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "+/-_=" {
		t[c] = true
	}
	return t
}()

// MayHavePayload is the cheap test that decides whether textnorm.Decode
// is worth running on text: a run of at least 16 base64 characters with a
// digit, an upper-case letter after its first byte, or one of + / in it
// (plain words and snake_case identifiers have none of these); two
// percent escapes; or a Unicode tag character. Runs of rot13 alone are not
// looked for.
func MayHavePayload(text string) bool {
	if strings.Contains(text, "\xf3\xa0") || percentEscapes(text) { // U+E0000..U+E0FFF
		return true
	}
	// A run of minRun or more base64 characters that starts within
	// (i-minRun, i] contains i: look only at every minRun-th byte
	// outside runs.
	for i := minRun - 1; i < len(text); {
		if !b64[text[i]] {
			i += minRun
			continue
		}
		s, e := i, i+1
		for s > 0 && b64[text[s-1]] {
			s--
		}
		for e < len(text) && b64[text[e]] {
			e++
		}
		if e-s >= minRun && mixedRun(text[s:e]) {
			return true
		}
		i = e + minRun
	}
	return false
}

// mixedRun reports whether a base64 run has a digit, an upper-case letter
// after its first byte, or one of + /.
func mixedRun(r string) bool {
	for k := 0; k < len(r); k++ {
		d := r[k]
		if '0' <= d && d <= '9' || k > 0 && 'A' <= d && d <= 'Z' || d == '+' || d == '/' {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// Payloads returns the encoded runs of text worth scoring again: those
// textnorm.DecodeEncoded finds (up to two layers deep, at most
// MaxPayloads). rot13 counts only inside another encoding, not at the
// outer layer, which MayHavePayload does not look for (so that a text's
// evidence does not depend on an unrelated stretch of rot13-looking
// words). It returns nil when MayHavePayload is false. The base64 runs
// are found once, for the test and for the decoding (textnorm.Runs).
func Payloads(text string) []textnorm.Decoded {
	var buf [32][2]int
	runs := textnorm.Runs(buf[:0], text)
	if !mayHavePayload(text, runs) {
		return nil
	}
	ds := textnorm.DecodeRuns(text, runs, payloadDepth, 2*MaxPayloads)
	return ds[:min(len(ds), MaxPayloads)]
}

// mayHavePayload is MayHavePayload given the text's base64 runs
// (textnorm.Runs): a run of 16 or more is one of them.
func mayHavePayload(text string, runs [][2]int) bool {
	if strings.Contains(text, "\xf3\xa0") || percentEscapes(text) {
		return true
	}
	for _, r := range runs {
		if mixedRun(text[r[0]:r[1]]) {
			return true
		}
	}
	return false
}

// percentEscapes reports whether text has two %xx escapes.
func percentEscapes(text string) bool {
	for pct, i := 0, 0; ; i++ {
		k := strings.IndexByte(text[i:], '%')
		if k < 0 {
			return false
		}
		i += k
		if i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]) {
			if pct++; pct >= 2 {
				return true
			}
		}
	}
}
