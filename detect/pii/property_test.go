package pii

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestNoInvalidReported generates random digit strings in the shapes of
// card numbers, IBANs and SSNs, in varied surroundings, and checks that
// every card, IBAN or SSN hit passes its validator: Luhn for cards,
// country length and mod-97 for IBANs, and the area, group and serial
// rules for SSNs.
func TestNoInvalidReported(t *testing.T) {
	d := newDetector(t, nil)
	r := rand.New(rand.NewPCG(11, 12))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	countries := []string{"DE", "GB", "FR", "ES", "NL", "IT", "BE", "CH", "PL", "SE"}
	var cards, ibans, ssns int
	for i := 0; i < 20000; i++ {
		var v string
		switch i % 3 {
		case 0:
			v = digits(12 + r.IntN(8))
			if r.IntN(2) == 0 {
				v = groupBy4(v, []string{" ", "-"}[r.IntN(2)])
			}
		case 1:
			cc := countries[r.IntN(len(countries))]
			v = cc + digits(ibanLen[cc]-2)
			switch r.IntN(4) {
			case 0:
				v = groupBy4(v, " ")
			case 1:
				v = groupBy4(v, "-")
			case 2:
				v = strings.ToLower(v)
			}
		case 2:
			v = digits(3) + "-" + digits(2) + "-" + digits(4)
			if r.IntN(3) == 0 {
				v = strings.ReplaceAll(v, "-", "")
			}
		}
		text := []string{"card ", "SSN ", "IBAN ", "", "pay "}[r.IntN(5)] + v + []string{"", ".", " ok", ")"}[r.IntN(4)]
		for _, h := range mustDetect(t, d, text) {
			raw := text[h.Start:h.End]
			clean := strings.NewReplacer(" ", "", "-", "").Replace(raw)
			switch h.Rule {
			case RuleCreditCard:
				cards++
				if !luhn([]byte(clean)) {
					t.Fatalf("%q: card %q fails Luhn", text, raw)
				}
			case RuleIBAN:
				ibans++
				clean = strings.ToUpper(clean)
				if len(clean) != ibanLen[clean[:2]] || !mod97([]byte(clean)) {
					t.Fatalf("%q: IBAN %q is invalid", text, raw)
				}
			case RuleSSN:
				ssns++
				area, group, serial := atoi(clean[:3]), atoi(clean[3:5]), atoi(clean[5:])
				if len(clean) != 9 || area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
					t.Fatalf("%q: SSN %q is invalid", text, raw)
				}
			}
		}
	}
	t.Logf("checked %d card, %d IBAN and %d SSN hits", cards, ibans, ssns)
	if cards == 0 || ibans == 0 || ssns == 0 {
		t.Fatal("the generator produced no hits of some kind")
	}
}

func groupBy4(s, sep string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), sep)
}

// TestNameStarts8 checks the name-start filter on every pair of bytes at
// every position: it must flag every byte that personAt examines (an
// upper-case ASCII letter or the first byte of a multi-byte character
// after a space, tab, line feed, parenthesis, quote or '>'), and exactly
// the bytes its documented ranges say.
func TestNameStarts8(t *testing.T) {
	for p := 0; p < 256; p++ {
		for c := 0; c < 256; c++ {
			exact := p < 0x40 && (c >= 0x40 && c <= 0x5f || c >= 0xc0)
			needed := strings.IndexByte(" \n\t(\"'>", byte(p)) >= 0 && (c >= 'A' && c <= 'Z' || c >= 0xc0)
			if needed && !exact {
				t.Fatalf("%#x %#x: a name start outside the filter's ranges", p, c)
			}
			for pos := 0; pos < 8; pos++ {
				prev, cur := []byte("a.bc-de:"), []byte("bcdefghi")
				prev[pos], cur[pos] = byte(p), byte(c)
				m := nameStarts8(load8(string(prev)), load8(string(cur)))
				for k := range 8 {
					if got, want := m>>(8*k+7)&1 == 1, k == pos && exact; got != want {
						t.Fatalf("prev %q cur %q: byte %d flagged %v, want %v", prev, cur, k, got, want)
					}
				}
				if m&^0x8080808080808080 != 0 {
					t.Fatalf("prev %q cur %q: mask %#x has bits outside bit 7", prev, cur, m)
				}
			}
		}
	}
}

// TestLowerLetters16 compares lowerLetters16 with a byte-at-a-time loop on
// words of every length next to every byte.
func TestLowerLetters16(t *testing.T) {
	for _, word := range []string{"", "a", "Zz", "Anna", "MacDonald", "abcdefgh", "ABCDEFGHI", "Wolfeschlegelst", "Wolfeschlegelste", "Wolfeschlegelstein"} {
		for c := 0; c < 256; c++ {
			text := word + string([]byte{byte(c)}) + "xxxxxxxxxxxxxxxx"
			var want [16]byte
			n := 0
			for n < 16 && class[text[n]]&(cUpper|cLower) != 0 {
				want[n] = lower(text[n])
				n++
			}
			gotN, lo, hi := lowerLetters16(load8(text[:8]), load8(text[8:16]))
			var got [16]byte
			for i := range 8 {
				got[i], got[8+i] = byte(lo>>(8*i)), byte(hi>>(8*i))
			}
			if gotN != n || got != want {
				t.Fatalf("%q: %d %q, want %d %q", text[:16], gotN, got, n, want)
			}
		}
	}
}

// TestCapitalAt compares capitalAt's tables with decoding and
// unicode.IsUpper on every two-byte sequence (valid or not) and every
// three-byte character.
func TestCapitalAt(t *testing.T) {
	check := func(text string) {
		s := scanner{text: text, eof: true}
		r, n := utf8.DecodeRuneInString(text)
		ok, m := s.capitalAt(0)
		if ok != unicode.IsUpper(r) || ok && m != n {
			t.Fatalf("%q: %v %d, want %v %d", text, ok, m, unicode.IsUpper(r), n)
		}
	}
	for a := 0x80; a < 0x100; a++ {
		for b := 0; b < 0x100; b++ {
			check(string([]byte{byte(a), byte(b)}))
			check(string([]byte{byte(a), byte(b), 0x80}))
		}
		check(string([]byte{byte(a)}))
	}
	for r := rune(0x800); r < 0x10000; r++ {
		check(string(r) + "x")
	}
}
