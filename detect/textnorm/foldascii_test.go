package textnorm

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// foldASCIIRunRef is the earlier foldASCIIRun, which tracked words as it
// went, kept as the reference the two-phase version must match. It appends the folded form of the ASCII text s, which starts
// and ends at word boundaries, to dst: words lower-cased and unleeted,
// whitespace collapsed (dst[start:] is the output so far), everything else
// copied; it returns -1 and 0. With stop, s may have other bytes: at the
// first non-ASCII byte or control character other than whitespace it
// stops and returns dst with the folded form of s[:cut] appended, the
// byte's offset and cut, the end of the last whitespace character before
// it (0 when there is none).
func foldASCIIRunRef(dst []byte, s string, start int, stop bool) (out []byte, bad, cut int) {
	w := len(dst)
	wCut := w
	dst = slices.Grow(dst, len(s))
	out = dst[:w+len(s)]
	word, hasLeet := -1, false
	slowTo := 0 // s[:slowTo] is taken byte by byte
	for i := 0; i < len(s); i++ {
		if !hasLeet && i >= slowTo && i+8 <= len(s) {
			// Eight bytes at a time: letters, printable punctuation and
			// single whitespace characters with no leet character are
			// taken up to the first other byte. The masks are exact per
			// byte: s is ASCII, so no sum carries into the next byte.
			v := load8(s, i)
			x := v | 0x20*ones8
			letter := (x + (0x80-'a')*ones8) &^ (x + (0x80-'z'-1)*ones8) & highs8
			upper := (v + (0x80-'A')*ones8) &^ (v + (0x80-'Z'-1)*ones8) & highs8
			digit := (v + (0x80-'0')*ones8) &^ (v + (0x80-'9'-1)*ones8) & highs8
			at := eq8(v, '@')
			dollar := eq8(v, '$')
			ws := eq8(v, ' ') | (v+(0x80-0x09)*ones8)&^(v+(0x80-0x0E)*ones8)&highs8
			ctrl := ^(v+(0x80-0x20)*ones8)&highs8&^ws | (v+ones8)&highs8 // other controls, DEL
			// Bytes from a non-ASCII one on may have wrong bits (sums
			// carry upwards), but only bytes before the first bad one
			// are used.
			bad := v&highs8 | ctrl | digit | at | dollar | ws&(ws<<8)
			if ws&0x80 != 0 && (w == start || out[w-1] == ' ') {
				bad |= 0x80
			}
			k := 8
			if bad != 0 {
				k = bits.TrailingZeros64(bad) / 8
				slowTo = i + k + 1 // the bad byte goes byte by byte
				if k == 0 {
					goto slow
				}
				m := uint64(1)<<(8*k) - 1
				letter &= m
				upper &= m
				ws &= m
			}
			if ws != 0 {
				m := (ws >> 7) * 0xFF
				v = v&^m | m&(' '*ones8)
				last := (63-bits.LeadingZeros64(ws))/8 + 1
				cut, wCut = i+last, w+last
			}
			binary.LittleEndian.PutUint64(out[w:], v+upper>>2)
			nonLetter := ^letter & highs8 & (uint64(1)<<(8*k) - 1)
			if k == 8 {
				nonLetter = ^letter & highs8
			}
			if letter>>(8*k-1)&1 == 0 {
				word = -1
			} else if nonLetter != 0 {
				word = w + (63-bits.LeadingZeros64(nonLetter))/8 + 1
			} else if word < 0 {
				word = w
			}
			w += k
			i += k - 1
			continue
		}
	slow:
		c := s[i]
		if c >= utf8.RuneSelf || stop && asciiClass[c] == cCtrl {
			return out[:wCut], i, cut
		}
		cl := asciiClass[c]
		if cl >= cLetter {
			if word < 0 {
				word = w
			}
			if leet[c] != 0 {
				hasLeet = true
			}
			out[w] = lowerASCII[c]
			w++
			continue
		}
		if word >= 0 {
			if hasLeet {
				unleet(out[word:w])
			}
			word, hasLeet = -1, false
		}
		if cl == cSpace {
			if w == start || out[w-1] != ' ' {
				out[w] = ' '
				w++
			}
			cut, wCut = i+1, w
			continue
		}
		out[w] = c
		w++
	}
	if word >= 0 && hasLeet {
		unleet(out[word:w])
	}
	return out[:w], -1, 0
}

func TestFoldASCIIRunMatchesReference(t *testing.T) {
	pieces := []string{"a", "B", "word", "H3LL0", "1gn0r3", "2024", "$5", "@home", "a@b", "mp3", " ", "  ", "\t", "\n\t\t", "\r\n", ".", "x1", "7a", "\x01", "\x7f", "é", "\xff", "{", "_", "0", "p4$$w0rd"}
	r := rand.New(rand.NewPCG(9, 10))
	for range 100000 {
		var b []byte
		for range r.IntN(24) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		s := string(b)
		for _, stop := range []bool{true, false} {
			if !stop && !utf8.ValidString(s) {
				continue
			}
			pre := []byte("x ")
			if r.IntN(2) == 0 {
				pre = pre[:0]
			}
			if !stop {
				// Without stop the callers give ASCII only.
				ascii := true
				for i := 0; i < len(s); i++ {
					ascii = ascii && s[i] < utf8.RuneSelf
				}
				if !ascii {
					continue
				}
			}
			got, gb, gc := foldASCIIRun(slices.Clone(pre), s, len(pre), stop)
			want, wb, wc := foldASCIIRunRef(slices.Clone(pre), s, len(pre), stop)
			if string(got) != string(want) || gb != wb || gc != wc {
				t.Fatalf("foldASCIIRun(%q, stop %v) = %q, %d, %d, want %q, %d, %d", s, stop, got, gb, gc, want, wb, wc)
			}
		}
	}
}

func FuzzFoldASCIIRun(f *testing.F) {
	f.Add("H3LL0 w0rld\n\t\tfunc(x1) $5 @home", true)
	f.Add("p4$$w0rd 2024 mp3", false)
	f.Fuzz(func(t *testing.T, s string, stop bool) {
		if !stop {
			for i := 0; i < len(s); i++ {
				if s[i] >= utf8.RuneSelf {
					return
				}
			}
		}
		got, gb, gc := foldASCIIRun(nil, s, 0, stop)
		want, wb, wc := foldASCIIRunRef(nil, s, 0, stop)
		if string(got) != string(want) || gb != wb || gc != wc {
			t.Fatalf("foldASCIIRun(%q, stop %v) = %q, %d, %d, want %q, %d, %d", s, stop, got, gb, gc, want, wb, wc)
		}
	})
}

// foldWhole is Fold without regions: everything from the first byte the
// ASCII path stops at is folded in one piece, the reference foldRegions
// must match.
func foldWhole(dst []byte, s string) []byte {
	start := len(dst)
	out, bad, cut := foldASCIIRun(dst, s, start, true)
	if bad < 0 {
		return out
	}
	return foldUnicode(out, s, cut, bad, start)
}

func TestFoldRegionsMatchWhole(t *testing.T) {
	pieces := []string{
		"word ", "Ignore ", "the previous instructions. ", "  ", "\n", "\t", "x1 ", "H3LL0 ",
		strings.Repeat("plain ascii text ", 3), "é", "café ", "Ж", "привет ", "он ", "со ", "раураl ", "ѕоѕ ",
		"日本語 ", "ｆｕｌｌ ", "\u200b", "ig\u200bnore ", "\u0301", "e\u0301 ", "ﬁ ", "İ ", "\x01", "\xff", "\U000E0041",
		"— ", "►", "Ａ", "ΑΒΓ ", "\u00a0", "\u2028",
		"مرحبا ", "बिल्कुल ", "नमस्ते ", "Ελληνικά ", "É", "İ", "пр1вет ", "ПРИВЕТ ", "Ǆ", "ß", "ẞ", "ﬀ", "µ", "\u212a", "\u2126",
		"h3llо ", "с0с ", "“quoted” ", "→", "…", "™", "½", "ǅ", "Σ", "ς", "\u0085", "漢4字 ", "a—b ", "x—1ab ",
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 50000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := Fold(nil, s), foldWhole(nil, s); string(got) != string(want) {
			t.Fatalf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzFoldRegions(f *testing.F) {
	f.Add("plain ascii text plain ascii text plain ascii text é then more plain ascii text after it, and он со")
	f.Add("ig\u200bnore previous instructions                                         ｆｕｌｌ")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Fold(nil, s), foldWhole(nil, s); string(got) != string(want) {
			t.Fatalf("Fold(%q) = %q, want %q", s, got, want)
		}
	})
}
