package finding

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Compare orders findings the way every report lists them: highest severity
// first, then by location (path, line, column, row, offset, request, field,
// span, commit), then by rule id and the remaining fields so that the order
// is total and does not depend on the order the findings were produced in.
func Compare(a, b *Finding) int {
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := compareLocation(&a.Location, &b.Location); c != 0 {
		return c
	}
	if c := strings.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Excerpt, b.Excerpt); c != 0 {
		return c
	}
	if c := strings.Compare(a.Message, b.Message); c != 0 {
		return c
	}
	if c := strings.Compare(a.Fingerprint, b.Fingerprint); c != 0 {
		return c
	}
	if c := strings.Compare(a.Title, b.Title); c != 0 {
		return c
	}
	if c := strings.Compare(a.Detector, b.Detector); c != 0 {
		return c
	}
	return cmp.Compare(b.Confidence, a.Confidence)
}

func compareLocation(a, b *Location) int {
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Line, b.Line); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Column, b.Column); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Row, b.Row); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Offset, b.Offset); c != 0 {
		return c
	}
	if c := strings.Compare(a.RequestID, b.RequestID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Field, b.Field); c != 0 {
		return c
	}
	switch {
	case a.Span == nil && b.Span != nil:
		return -1
	case a.Span != nil && b.Span == nil:
		return 1
	case a.Span != nil:
		if c := cmp.Compare(a.Span.Start, b.Span.Start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Span.End, b.Span.End); c != 0 {
			return c
		}
	}
	return strings.Compare(a.Commit, b.Commit)
}

// Sort sorts findings in place in report order (see Compare).
func Sort(findings []Finding) {
	slices.SortStableFunc(findings, func(a, b Finding) int { return Compare(&a, &b) })
}

// sorted returns pointers to r's findings in report order without changing
// the report.
func sorted(r *Report) []*Finding {
	out := make([]*Finding, len(r.Findings))
	for i := range r.Findings {
		out[i] = &r.Findings[i]
	}
	slices.SortStableFunc(out, Compare)
	return out
}

// Summary counts a report's findings.
type Summary struct {
	// Total is the number of findings.
	Total int
	// BySeverity is indexed by Severity (Info … Critical).
	BySeverity [Critical + 1]int
	// ByLayer is indexed by Layer (1 … 7) and then by Severity; index 0
	// counts findings whose layer is unset or out of range.
	ByLayer [LayerHumans + 1][Critical + 1]int
}

// Summary counts r's findings by severity and by layer. Findings with an
// out-of-range severity are counted in Total only.
func (r *Report) Summary() Summary {
	var s Summary
	s.Total = len(r.Findings)
	for i := range r.Findings {
		f := &r.Findings[i]
		if !f.Severity.valid() {
			continue
		}
		s.BySeverity[f.Severity]++
		l := f.Layer
		if !l.valid() {
			l = 0
		}
		s.ByLayer[l][f.Severity]++
	}
	return s
}

func (s Severity) valid() bool { return s >= Info && s <= Critical }

func (l Layer) valid() bool { return l >= LayerTrainingData && l <= LayerHumans }

// Validate reports the first problem that would make r unfit for a report:
// a finding or rule without a rule id, or with a severity, layer or
// confidence out of range, or a location with negative numbers. The writers
// call it before writing anything.
func (r *Report) Validate() error {
	if r == nil {
		return fmt.Errorf("nil report")
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if err := checkRuleFields(f.RuleID, f.Severity, f.Layer); err != nil {
			return fmt.Errorf("finding %d (rule %q): %w", i, f.RuleID, err)
		}
		if math.IsNaN(f.Confidence) || f.Confidence < 0 || f.Confidence > 1 {
			return fmt.Errorf("finding %d (rule %q): confidence %v out of range [0, 1]", i, f.RuleID, f.Confidence)
		}
		l := &f.Location
		if l.Line < 0 || l.Column < 0 || l.Row < 0 || l.Offset < 0 {
			return fmt.Errorf("finding %d (rule %q): negative line, column, row or offset in location %q", i, f.RuleID, l.String())
		}
		if l.Span != nil && (l.Span.Start < 0 || l.Span.End < l.Span.Start) {
			return fmt.Errorf("finding %d (rule %q): invalid span [%d:%d]", i, f.RuleID, l.Span.Start, l.Span.End)
		}
	}
	for i := range r.Rules {
		ru := &r.Rules[i]
		if err := checkRuleFields(ru.ID, ru.Severity, ru.Layer); err != nil {
			return fmt.Errorf("rule %d (%q): %w", i, ru.ID, err)
		}
	}
	return nil
}

func checkRuleFields(id string, s Severity, l Layer) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("empty rule id")
	}
	if !s.valid() {
		return fmt.Errorf("invalid severity %d", int(s))
	}
	if !l.valid() {
		return fmt.Errorf("invalid layer %d (want 1 to 7)", int(l))
	}
	return nil
}
