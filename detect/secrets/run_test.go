package secrets

import (
	"regexp"
	"testing"
)

func TestNeedOf(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		min     int
		in, out string // a byte in and one out of the set
	}{
		{`\b(gsk_[A-Za-z0-9]{52})\b`, 56, "gZ9_", "-. "},
		{`(?i)mistral[\s\S]{0,48}?\b([a-z0-9]{32})\b`, 32, "aZ0", "_- "},
		{`(?i)(?:together[\s\S]{0,48}?\b([a-f0-9]{64})\b|\b(tgp_v1_[a-z0-9_\-]{43}))`, 50, "aF_-", ". "},
		{`x[0-9]{3,}|y`, 1, "xy0", "z"},
		{`(é{4})`, 8, "\xc3\xa9", "e"},
	} {
		n, err := needOf(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if n.min != tc.min {
			t.Errorf("%s: min %d, want %d", tc.pattern, n.min, tc.min)
		}
		for i := 0; i < len(tc.in); i++ {
			if !n.set[tc.in[i]] {
				t.Errorf("%s: %q not in the set", tc.pattern, tc.in[i])
			}
		}
		for i := 0; i < len(tc.out); i++ {
			if n.set[tc.out[i]] {
				t.Errorf("%s: %q in the set", tc.pattern, tc.out[i])
			}
		}
	}
}

// TestNeedHolds checks that every rule's true case has the run its
// pattern needs, and that a window without it gets no match from the
// pattern either.
func TestNeedHolds(t *testing.T) {
	for _, rr := range ruleSet.regexes {
		for _, ex := range ruleSet.specs[rr.spec].Examples {
			if !rr.need.in(ex) {
				t.Errorf("rule %s: example %q lacks the run its pattern needs", ruleSet.rules[rr.idx].ID, ex)
			}
		}
		for _, neg := range ruleSet.specs[rr.spec].Negatives {
			if !rr.need.in(neg) && rr.re.MatchString(neg) && matchedGroup(rr.re, neg) {
				t.Errorf("rule %s: %q matches without the run", ruleSet.rules[rr.idx].ID, neg)
			}
		}
	}
}

// matchedGroup reports whether some match of re in s has a non-empty
// secret.
func matchedGroup(re *regexp.Regexp, s string) bool {
	for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
		if re.NumSubexp() == 0 {
			return loc[1] > loc[0]
		}
		for g := 1; g <= re.NumSubexp(); g++ {
			if loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
				return true
			}
		}
	}
	return false
}
