// Package redact applies detector hits to text: it replaces matched spans
// with masks (Apply), renders safe excerpts for findings and audit records
// (Excerpt), and redacts streamed text chunk by chunk while holding back only
// as much as a match can span (Stream).
package redact

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
)

// Style is how a redacted span is rendered.
type Style int

// The styles.
const (
	// StyleLabel replaces a span with "[REDACTED:LABEL]", LABEL being the
	// hit's Label ("[REDACTED]" when the hit has none).
	StyleLabel Style = iota
	// StyleFixed replaces a span with "****", whatever matched.
	StyleFixed
)

// String returns the style's name, "label" or "fixed".
func (s Style) String() string {
	switch s {
	case StyleLabel:
		return "label"
	case StyleFixed:
		return "fixed"
	}
	return "style(" + strconv.Itoa(int(s)) + ")"
}

// Mask returns what replaces a span with the given label.
func (s Style) Mask(label string) string {
	if s == StyleFixed {
		return "****"
	}
	if label == "" {
		return "[REDACTED]"
	}
	return "[REDACTED:" + label + "]"
}

// Apply returns text with every hit's span replaced by its mask. Hits may
// come in any order; spans are clamped to the text, empty ones are ignored,
// and overlapping spans (sharing at least one byte) merge into one mask that
// takes the label of the hit that starts first (the longer one on a tie,
// then the smaller label). Spans that only touch stay separate masks.
func Apply(text string, hits []detect.Hit, style Style) string {
	spans := mergeHits(hits, len(text))
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	n := len(text)
	for _, sp := range spans {
		n += len(style.Mask(sp.label)) - (sp.end - sp.start)
	}
	b.Grow(max(n, 0))
	at := 0
	for _, sp := range spans {
		b.WriteString(text[at:sp.start])
		b.WriteString(style.Mask(sp.label))
		at = sp.end
	}
	b.WriteString(text[at:])
	return b.String()
}

// ApplyFunc is Apply with each merged span replaced by replace(i, value):
// i is the index in hits of the hit that gives the span its label (as in
// Apply) and value is the text of the whole merged span. It serves
// replacements that depend on the value, such as keyed hashes, synthetic
// values and anonymization placeholders.
func ApplyFunc(text string, hits []detect.Hit, replace func(i int, value string) string) string {
	spans := mergeHits(hits, len(text))
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	at := 0
	for _, sp := range spans {
		b.WriteString(text[at:sp.start])
		b.WriteString(replace(sp.hit, text[sp.start:sp.end]))
		at = sp.end
	}
	b.WriteString(text[at:])
	return b.String()
}

// span is a merged redaction region.
type span struct {
	start, end int
	label      string
	hit        int // index of the hit the label comes from
}

// mergeHits clamps, orders and merges overlapping hits of a text of length n.
func mergeHits(hits []detect.Hit, n int) []span {
	if len(hits) == 0 {
		return nil
	}
	spans := make([]span, 0, len(hits))
	for i, h := range hits {
		s, e := max(h.Start, 0), min(h.End, n)
		if s >= e {
			continue
		}
		spans = append(spans, span{s, e, h.Label, i})
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return b.end - a.end
		}
		if c := strings.Compare(a.label, b.label); c != 0 {
			return c
		}
		return a.hit - b.hit
	})
	out := spans[:0]
	for _, sp := range spans {
		if k := len(out) - 1; k >= 0 && sp.start < out[k].end {
			out[k].end = max(out[k].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// excerptContext is how many bytes of context Excerpt shows on each side.
const excerptContext = 24

// Excerpt renders the text around [start, end) for a finding or an audit
// record with the matched value masked: only a short hint of it is shown (at
// most its first four bytes, and only for values of 16 bytes or more, such
// as a key prefix "sk-p"), followed by its length, e.g.
//
//	…key = [sk-p…(51 bytes)] # prod…
//
// Up to 24 bytes of context are shown on each side, with control characters
// replaced by spaces, and any word in the context that looks like another
// identifier or secret (eight bytes or more with a digit or an "@") masked as
// "•••". The matched value itself is never returned. Out-of-range spans are
// clamped.
func Excerpt(text string, start, end int) string {
	return excerpt(text, start, end, nil, true)
}

// ExcerptNoHint is Excerpt without the hint: the matched value shows only
// as its length, e.g. "[(21 bytes)]". It serves values that must leave no
// trace at all, such as anonymized ones.
func ExcerptNoHint(text string, start, end int) string {
	return excerpt(text, start, end, nil, false)
}

// ExcerptHit is Excerpt for hits[i], masking any other hit's span that falls
// in the context as well. It returns "" when i is out of range.
func ExcerptHit(text string, hits []detect.Hit, i int) string {
	if i < 0 || i >= len(hits) {
		return ""
	}
	return excerpt(text, hits[i].Start, hits[i].End, hits, true)
}

// ExcerptHitNoHint is ExcerptHit without the hint of the value (see
// ExcerptNoHint).
func ExcerptHitNoHint(text string, hits []detect.Hit, i int) string {
	if i < 0 || i >= len(hits) {
		return ""
	}
	return excerpt(text, hits[i].Start, hits[i].End, hits, false)
}

func excerpt(text string, start, end int, others []detect.Hit, hint bool) string {
	start = min(max(start, 0), len(text))
	end = min(max(end, start), len(text))
	for start > 0 && start < len(text) && !utf8.RuneStart(text[start]) {
		start--
	}
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	cs := start - excerptContext
	if cs < 0 {
		cs = 0
	}
	for cs > 0 && !utf8.RuneStart(text[cs]) {
		cs++
	}
	ce := min(end+excerptContext, len(text))
	for ce < len(text) && !utf8.RuneStart(text[ce]) {
		ce--
	}
	var b strings.Builder
	if cs > 0 {
		b.WriteString("…")
	}
	writeContext(&b, text, cs, start, others)
	b.WriteByte('[')
	v := text[start:end]
	if h := hintLen(v); h > 0 && hint {
		b.WriteString(v[:h])
		b.WriteString("…")
	}
	b.WriteByte('(')
	b.WriteString(strconv.Itoa(len(v)))
	b.WriteString(" bytes)]")
	writeContext(&b, text, end, ce, others)
	if ce < len(text) {
		b.WriteString("…")
	}
	return b.String()
}

// hintLen is how many leading bytes of a matched value an excerpt may show.
func hintLen(v string) int {
	if len(v) < 16 {
		return 0
	}
	h := min(4, len(v)/4)
	for i := 0; i < h; i++ {
		c := v[i]
		if c < 0x21 || c > 0x7e {
			return i
		}
	}
	return h
}

// writeContext writes text[from:to] with control characters turned into
// spaces, other hits masked and identifier-looking words masked.
func writeContext(b *strings.Builder, text string, from, to int, others []detect.Hit) {
	i := from
	for i < to {
		// Another hit covering i: mask up to its end.
		if e := coveredUntil(others, i); e > i {
			b.WriteString("•••")
			i = min(e, to)
			continue
		}
		c := text[i]
		if isWordByte(c) {
			j := i
			for j < to && isWordByte(text[j]) && coveredUntil(others, j) <= j {
				j++
			}
			w := text[i:j]
			if len(w) >= 8 && strings.ContainsAny(w, "0123456789@") {
				b.WriteString("•••")
			} else {
				b.WriteString(w)
			}
			i = j
			continue
		}
		if c < 0x20 || c == 0x7f {
			b.WriteByte(' ')
		} else {
			b.WriteByte(c)
		}
		i++
	}
}

// coveredUntil returns the end of a hit in hits that covers offset i, or 0.
func coveredUntil(hits []detect.Hit, i int) int {
	e := 0
	for _, h := range hits {
		if h.Start <= i && i < h.End && h.End > e {
			e = h.End
		}
	}
	return e
}

// isWordByte reports whether c can be part of a token worth masking in
// excerpt context: letters, digits, bytes of multi-byte runes, and the
// punctuation keys and addresses are made of.
func isWordByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("_-+/=.@%", c) >= 0
}
