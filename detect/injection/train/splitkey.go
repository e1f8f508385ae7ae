package main

import (
	"unicode"
	"unicode/utf8"
)

// splitKey is the folded form the dedupe and the split's group keys are
// computed on. It is frozen at the normalisation the first model's split
// was made with (lower case, full-width forms and tag characters mapped to
// ASCII, invisible characters removed, white space collapsed), so that
// retraining with another normaliser keeps the same rows in the same
// parts and dev figures stay comparable. It is not the detector's view of
// a text (that is textnorm.Fold).
func splitKey(s string) string {
	dst := make([]byte, 0, len(s))
	space := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				if !space {
					dst = append(dst, ' ')
					space = true
				}
			} else {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				dst = append(dst, c)
				space = false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case splitKeyInvisible(r):
			continue
		case r >= 0xE0020 && r <= 0xE007E:
			r = unicode.ToLower(r - 0xE0000)
		case r >= 0xFF01 && r <= 0xFF5E:
			r = unicode.ToLower(r - 0xFEE0)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			continue
		default:
			r = unicode.ToLower(r)
		}
		dst = utf8.AppendRune(dst, r)
		space = false
	}
	if space && len(dst) > 0 && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return string(dst)
}

func splitKeyInvisible(r rune) bool {
	switch {
	case r == 0xAD, r == 0x180E, r == 0xFEFF, r == 0x034F:
		return true
	case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x2064,
		r >= 0x2066 && r <= 0x2069, r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0000 && r <= 0xE001F,
		r == 0xE007F, r >= 0xE0100 && r <= 0xE01EF:
		return true
	}
	return false
}
