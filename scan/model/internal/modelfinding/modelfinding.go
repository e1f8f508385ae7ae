// Package modelfinding makes, clips and caps the findings of the model file
// scanners: a finding at a byte offset with a clipped field and excerpt,
// the rule list a package exports, and a cap on the findings of one rule
// so that a file with a million damaged entries does not produce a million
// findings.
package modelfinding

import (
	"fmt"

	"github.com/rampartsec/rampart/finding"
)

// MaxPerRule is the number of findings of one rule a scan lists; the rest
// are counted in one summary finding.
const MaxPerRule = 100

// MaxExcerpt is the number of bytes At keeps of a field or an excerpt.
const MaxExcerpt = 256

// At returns a finding of rule r by detector at byte offset off, about
// field (a key, tensor or entry name), with excerpt and message msg. The
// field and the excerpt are clipped to MaxExcerpt bytes.
func At(r *finding.Rule, detector string, off int64, field, excerpt, msg string) finding.Finding {
	f := finding.New(r, finding.Location{Offset: off, Field: Clip(field, MaxExcerpt)}, 1, Clip(excerpt, MaxExcerpt))
	f.Message = msg
	f.Detector = detector
	return f
}

// Clip shortens s to at most n bytes, cut before a UTF-8 continuation byte
// so that a valid string stays valid, and marks the cut with "…".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Rules returns the rules rs point to, for a package's Rules function.
func Rules(rs ...*finding.Rule) []finding.Rule {
	out := make([]finding.Rule, len(rs))
	for i, r := range rs {
		out[i] = *r
	}
	return out
}

// Counter keeps the first MaxPerRule findings of each rule added to it and
// counts the rest. The zero value is ready to use.
type Counter struct {
	kept  []finding.Finding
	count map[string]int // findings per rule id, kept or not
}

// Add counts f and keeps it if fewer than MaxPerRule findings of its rule
// were kept before.
func (c *Counter) Add(f finding.Finding) {
	if c.count == nil {
		c.count = map[string]int{}
	}
	c.count[f.RuleID]++
	if c.count[f.RuleID] <= MaxPerRule {
		c.kept = append(c.kept, f)
	}
}

// Findings returns the kept findings in the order they were added, then,
// for each rule with more than MaxPerRule, a summary finding: the rule's
// first finding without location or excerpt, with the count as message.
func (c *Counter) Findings() []finding.Finding {
	out := c.kept[:len(c.kept):len(c.kept)]
	var done map[string]bool
	for _, f := range c.kept {
		n := c.count[f.RuleID]
		if n <= MaxPerRule || done[f.RuleID] {
			continue
		}
		if done == nil {
			done = map[string]bool{}
		}
		done[f.RuleID] = true
		sum := f
		sum.Location = finding.Location{}
		sum.Excerpt = ""
		sum.Message = fmt.Sprintf("%d more findings of this rule not listed (%d in all)", n-MaxPerRule, n)
		out = append(out, sum)
	}
	return out
}

// Cap returns the first MaxPerRule findings of each rule in fs, then a
// summary finding for each rule with more, as Counter does.
func Cap(fs []finding.Finding) []finding.Finding {
	var c Counter
	for _, f := range fs {
		c.Add(f)
	}
	return c.Findings()
}
