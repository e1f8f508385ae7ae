package textnorm

import "unicode/utf8"

// Kind is the kind of an invisible or format character.
type Kind uint8

// The kinds of invisible characters. Private-use characters are not
// included: they render as glyphs (icon fonts, vendor logos), not as
// nothing.
const (
	// TagChar is a Unicode tag character, U+E0000–U+E007F: invisible ASCII
	// that can smuggle instructions past a reader (see TagText).
	TagChar Kind = iota + 1
	// ZeroWidth is a zero-width space, non-joiner or joiner (U+200B–U+200D),
	// word joiner (U+2060), invisible operator (U+2061–U+2064), zero-width
	// no-break space (U+FEFF) or Mongolian vowel separator (U+180E).
	ZeroWidth
	// Bidi is a bidirectional control: marks (U+200E, U+200F, U+061C),
	// embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
	Bidi
	// VariationSelector is a variation selector (U+FE00–U+FE0F,
	// U+E0100–U+E01EF) or Mongolian free variation selector
	// (U+180B–U+180D, U+180F).
	VariationSelector
	// Filler is a character that is a letter or mark by category but draws
	// nothing: Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the combining
	// grapheme joiner (U+034F) and Khmer inherent vowels (U+17B4, U+17B5).
	Filler
	// OtherFormat is any other format character (general category Cf),
	// such as the soft hyphen (U+00AD).
	OtherFormat
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case TagChar:
		return "tag"
	case ZeroWidth:
		return "zero-width"
	case Bidi:
		return "bidi"
	case VariationSelector:
		return "variation-selector"
	case Filler:
		return "filler"
	case OtherFormat:
		return "format"
	}
	return "none"
}

// Span is a run of invisible characters of one kind: a half-open byte span.
type Span struct {
	Start, End int
	Kind       Kind
}

// otherCf lists the format characters (Cf, Unicode 15) not named by a more
// specific kind, as inclusive ranges.
var otherCf = [...][2]rune{
	{0x00AD, 0x00AD}, {0x0600, 0x0605}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
	{0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
	{0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xFFF9, 0xFFFB},
}

// KindOf returns the kind of r, or 0 when r is not invisible.
func KindOf(r rune) Kind {
	if r < 0xAD {
		return 0
	}
	switch {
	case r >= 0xE0000 && r <= 0xE007F:
		return TagChar
	case r >= 0x200B && r <= 0x200D, r == 0x2060, r >= 0x2061 && r <= 0x2064, r == 0xFEFF, r == 0x180E:
		return ZeroWidth
	case r == 0x200E, r == 0x200F, r == 0x061C, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return Bidi
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF, r >= 0x180B && r <= 0x180D, r == 0x180F:
		return VariationSelector
	case r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x034F, r == 0x17B4, r == 0x17B5:
		return Filler
	case r >= 0x2065 && r <= 0x206F: // deprecated format characters and the reserved U+2065
		return OtherFormat
	}
	for _, rg := range otherCf {
		if r < rg[0] {
			break
		}
		if r <= rg[1] {
			return OtherFormat
		}
	}
	return 0
}

// MayBeInvisible reports whether the UTF-8 sequence at the start of s
// (len(s) >= 1, s[0] >= 0x80) can encode an invisible character or a C1
// control, judging by its first two bytes: a cheap pre-check for scanners
// that skip everything else (false means KindOf is 0 for that character).
func MayBeInvisible(s string) bool {
	if len(s) < 2 {
		return true
	}
	b := s[1]
	switch s[0] {
	case 0xC2: // C1 controls, U+00AD
		return b < 0xA0 || b == 0xAD
	case 0xCD: // U+034F
		return b == 0x8F
	case 0xD8, 0xDB, 0xDC: // U+0600–U+0605, U+061C, U+06DD, U+070F
		return true
	case 0xE0: // U+0890, U+0891, U+08E2
		return b == 0xA2 || b == 0xA3
	case 0xE1: // U+115F, U+1160, U+17B4, U+17B5, U+180B–U+180F
		return b == 0x85 || b == 0x9E || b == 0xA0
	case 0xE2: // U+200B–U+206F
		return b == 0x80 || b == 0x81
	case 0xE3: // U+3164
		return b == 0x85
	case 0xEF: // U+FE00–U+FE0F, U+FEFF, U+FFA0, U+FFF9–U+FFFB
		return b == 0xB8 || b == 0xBB || b == 0xBE || b == 0xBF
	case 0xF0: // U+110BD, U+110CD, U+13430–, U+1BCA0–, U+1D173–
		return b == 0x91 || b == 0x93 || b == 0x9B || b == 0x9D
	case 0xF3: // tags, variation selectors supplement
		return b == 0xA0
	}
	return false
}

// Invisible lists the runs of invisible and format characters in s, with
// their byte spans and kind; consecutive characters of one kind form one
// run. It returns nil when there are none (without allocating).
func Invisible(s string) []Span {
	var out []Span
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			i++
			continue
		}
		if !MayBeInvisible(s[i:]) {
			i++
			for i < len(s) && !utf8.RuneStart(s[i]) {
				i++
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		k := KindOf(r)
		if k == 0 {
			i += n
			continue
		}
		if m := len(out); m > 0 && out[m-1].End == i && out[m-1].Kind == k {
			out[m-1].End = i + n
		} else {
			out = append(out, Span{Start: i, End: i + n, Kind: k})
		}
		i += n
	}
	return out
}

// TagText decodes the tag characters in s (U+E0020–U+E007E) to the ASCII
// text they smuggle; other characters, and the language tag U+E0001 and
// cancel tag U+E007F, are skipped.
func TagText(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		if s[i] != 0xF3 {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r >= 0xE0020 && r <= 0xE007E {
			b = append(b, byte(r-0xE0000))
		}
		i += n
	}
	return string(b)
}
