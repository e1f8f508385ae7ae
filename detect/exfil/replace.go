package exfil

import (
	"html"
	"strings"
)

// reduce returns what is left of a construct when its link is removed:
// the text of a markdown link, the alt text of an image, nothing for
// anything else. Links and images nested in the kept text are reduced the
// same way, so an image inside a redacted link does not survive it.
func reduce(c string, depth int) string {
	if depth > maxNest || c == "" {
		return ""
	}
	switch {
	case strings.HasPrefix(c, "<"):
		return reduceTag(c, depth)
	case strings.HasPrefix(c, "!["):
		c = c[1:]
	case !strings.HasPrefix(c, "["):
		return "" // a bare URL, or the "](…" of an overlong text
	}
	e := closeOf(c, 0)
	if e < 0 || e+1 >= len(c) || c[e+1] != '(' {
		return "" // a reference definition, or not a link
	}
	return reduceText(c[1:e], depth+1)
}

// reduceTag keeps an <img>'s alt text and drops any other tag.
func reduceTag(c string, depth int) string {
	p := 1
	for p < len(c) && isAlnum(c[p]) {
		p++
	}
	if !strings.EqualFold(c[1:p], "img") {
		return ""
	}
	a := attrs{t: c, p: p, limit: len(c)}
	for a.next() {
		if strings.EqualFold(a.name, "alt") {
			return reduceText(html.UnescapeString(a.val), depth+1)
		}
	}
	return ""
}

// reduceText replaces every link, image and HTML tag in s by what reduce
// keeps of it.
func reduceText(s string, depth int) string {
	if depth > maxNest {
		return ""
	}
	sc := scanner{text: s, eof: true, d: &Detector{links: true}, pending: len(s), all: true, lastBang: -1}
	sc.scan()
	if len(sc.cons) == 0 {
		return s
	}
	var b strings.Builder
	at := 0
	for _, c := range outermost(sc.cons) {
		b.WriteString(s[at:c.start])
		b.WriteString(reduce(s[c.start:c.end], depth))
		at = c.end
	}
	b.WriteString(s[at:])
	return b.String()
}

// outermost sorts constructs by start and drops those inside another.
func outermost(cs []construct) []construct {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].start < cs[j-1].start || cs[j].start == cs[j-1].start && cs[j].end > cs[j-1].end); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	out := cs[:0]
	end := -1
	for _, c := range cs {
		if c.start < end {
			continue
		}
		out = append(out, c)
		end = c.end
	}
	return out
}
