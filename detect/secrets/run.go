package secrets

import (
	"regexp/syntax"
	"unicode/utf8"
)

// runNeed is a necessary condition for a pattern rule's match, derived from
// its regular expression: the secret (the capture group, or the whole
// match for a pattern without one) is a run of at least min bytes, every
// one of them in set. A window without such a run cannot match, and the
// regular expression need not run there.
type runNeed struct {
	set [256]bool
	min int
}

// needOf derives the run a pattern's secret needs. It is conservative:
// bytes of any non-ASCII rune are all in the set, and a case-folded
// literal counts one byte per rune.
func needOf(pattern string) (runNeed, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return runNeed{}, err
	}
	re = re.Simplify()
	var n runNeed
	var caps []*syntax.Regexp
	var find func(*syntax.Regexp)
	find = func(r *syntax.Regexp) {
		if r.Op == syntax.OpCapture {
			caps = append(caps, r)
		}
		for _, s := range r.Sub {
			find(s)
		}
	}
	find(re)
	if len(caps) == 0 {
		caps = []*syntax.Regexp{re}
	}
	n.min = -1
	for _, c := range caps {
		addBytes(&n.set, c)
		if m := minBytes(c); n.min < 0 || m < n.min {
			n.min = m
		}
	}
	return n, nil
}

// addBytes adds to set every byte a match of r may contain.
func addBytes(set *[256]bool, r *syntax.Regexp) {
	high := func() {
		for b := 0x80; b < 0x100; b++ {
			set[b] = true
		}
	}
	switch r.Op {
	case syntax.OpLiteral:
		for _, c := range r.Rune {
			switch {
			case c >= utf8.RuneSelf:
				high()
			case r.Flags&syntax.FoldCase != 0:
				set[lower(byte(c))], set[upper(byte(c))] = true, true
				high() // 'k' matches U+212A, 's' matches U+017F
			default:
				set[c] = true
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(r.Rune); i += 2 {
			lo, hi := r.Rune[i], r.Rune[i+1]
			for c := lo; c <= hi && c < utf8.RuneSelf; c++ {
				set[c] = true
			}
			if hi >= utf8.RuneSelf {
				high()
			}
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		for b := range set {
			set[b] = true
		}
	}
	for _, s := range r.Sub {
		addBytes(set, s)
	}
}

// minBytes is the length in bytes of the shortest text r matches.
func minBytes(r *syntax.Regexp) int {
	switch r.Op {
	case syntax.OpLiteral:
		n := 0
		for _, c := range r.Rune {
			if r.Flags&syntax.FoldCase != 0 {
				n++
			} else {
				n += utf8.RuneLen(c)
			}
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minBytes(r.Sub[0])
	case syntax.OpRepeat:
		return r.Min * minBytes(r.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range r.Sub {
			n += minBytes(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range r.Sub {
			if m := minBytes(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0 // empty-width operators, *, ?
}

// in reports whether t has a run of at least n.min bytes of n.set.
func (n *runNeed) in(t string) bool {
	if n.min <= 1 {
		return true
	}
	run := 0
	for i := 0; i < len(t); i++ {
		if n.set[t[i]] {
			run++
			if run >= n.min {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
