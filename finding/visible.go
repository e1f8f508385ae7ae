package finding

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// visible makes s safe to show to a person: control characters (which could
// drive a terminal), bidirectional overrides and other invisible format
// characters (which could make text read differently from what it is) and
// invalid UTF-8 are replaced by Go-style escapes such as \n, \x1b or \u202e.
// Printable text, including combining marks and wide characters, is kept.
func visible(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !needsEscape(r, size) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return true
	}
	if r >= 0x20 && r < 0x7f {
		return false
	}
	return !unicode.IsPrint(r)
}

// runeWidth is the number of terminal columns r takes: 2 for East Asian wide
// and full-width characters, 0 for combining marks, 1 otherwise.
func runeWidth(r rune) int {
	if r < 0x300 {
		return 1
	}
	if unicode.In(r, unicode.Mn, unicode.Me) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

const ellipsis = "…"

// truncate shortens s to at most max columns, ending it with "…" when it
// cuts. It never splits a rune and keeps combining marks with their base.
func truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if displayWidth(s) <= max {
		return s
	}
	w := 0
	for i, r := range s {
		rw := runeWidth(r)
		if rw > 0 && w+rw > max-1 {
			return s[:i] + ellipsis
		}
		w += rw
	}
	return s
}

// truncateLeft shortens s to at most max columns by cutting its beginning,
// which keeps the file name and line of a long path.
func truncateLeft(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if displayWidth(s) <= max {
		return s
	}
	w := 0
	cut := len(s)
	for cut > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:cut])
		rw := runeWidth(r)
		if rw > 0 && w+rw > max-1 {
			break
		}
		w += rw
		cut -= size
	}
	// Do not start on a combining mark whose base was cut away.
	for cut < len(s) {
		r, size := utf8.DecodeRuneInString(s[cut:])
		if runeWidth(r) != 0 {
			break
		}
		cut += size
	}
	return ellipsis + s[cut:]
}
