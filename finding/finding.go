// Package finding defines the record every Rampart surface reports — the
// gateway, the scanners, the red-team runner — and the writers that render a
// set of findings as a terminal table, JSON, SARIF 2.1.0 or a self-contained
// HTML page.
package finding

import (
	"fmt"
	"strings"
	"time"
)

// Severity orders findings from informational to critical.
type Severity int

// The severities, in increasing order.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lower-case name of s ("info" … "critical").
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, s := range severityNames {
		if s == n {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(severityNames[:], ", "))
}

// MarshalText encodes s as its name.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Info || s > Critical {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Layer is one of the seven attack surfaces of an AI system (see DESIGN.md).
type Layer int

// The seven layers.
const (
	LayerTrainingData   Layer = 1
	LayerModelWeights   Layer = 2
	LayerInferenceAPI   Layer = 3
	LayerOutput         Layer = 4
	LayerInfrastructure Layer = 5
	LayerSupplyChain    Layer = 6
	LayerHumans         Layer = 7
)

var layerNames = [...]string{"", "training data", "model weights", "inference API", "output", "infrastructure", "supply chain", "humans"}

// String returns the layer's name, e.g. "inference API".
func (l Layer) String() string {
	if l < LayerTrainingData || l > LayerHumans {
		return fmt.Sprintf("layer(%d)", int(l))
	}
	return layerNames[l]
}

// Rule is the static description of what a finding means. Detectors and
// scanners declare their rules once; findings point at them.
type Rule struct {
	// ID is stable and dotted, e.g. "secrets.aws-access-key".
	ID string `json:"id"`
	// Title is a short human description.
	Title string `json:"title"`
	// Layer is the attack surface the rule protects.
	Layer Layer `json:"layer"`
	// Severity is the default severity of a finding of this rule.
	Severity Severity `json:"severity"`
	// Remediation is one line telling the reader what to do.
	Remediation string `json:"remediation,omitempty"`
	// References name the OWASP LLM Top 10 (2025), MITRE ATLAS and CWE
	// entries the rule relates to.
	References References `json:"references,omitzero"`
}

// Family is what the rules of one detector family share: the prefix of
// their ids (the family's name), their layer, remediation and references.
type Family struct {
	Name        string
	Layer       Layer
	Remediation string
	References  References
}

// Rule returns the family's rule with ID Name.id.
func (f Family) Rule(id, title string, sev Severity) *Rule {
	return &Rule{
		ID:          f.Name + "." + id,
		Title:       title,
		Layer:       f.Layer,
		Severity:    sev,
		Remediation: f.Remediation,
		References:  f.References,
	}
}

// References ties a rule to public taxonomies.
type References struct {
	// OWASP holds OWASP Top 10 for LLM Applications 2025 ids, e.g. "LLM02:2025".
	OWASP []string `json:"owasp,omitempty"`
	// ATLAS holds MITRE ATLAS technique ids, e.g. "AML.T0051".
	ATLAS []string `json:"atlas,omitempty"`
	// CWE holds CWE ids, e.g. "CWE-798".
	CWE []string `json:"cwe,omitempty"`
}

// Span is a half-open byte range [Start, End) in a text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Location says where a finding was made. Only the fields that apply to the
// surface are set.
type Location struct {
	// Path is a file path (scanners) or an artifact name.
	Path string `json:"path,omitempty"`
	// Line and Column are 1-based; zero means unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Row is a 1-based dataset row; zero means none.
	Row int64 `json:"row,omitempty"`
	// Offset is a byte offset into a file, for binary formats.
	Offset int64 `json:"offset,omitempty"`
	// RequestID names a gateway request.
	RequestID string `json:"request_id,omitempty"`
	// Field names the part of a request or record, e.g. "messages[2].content".
	Field string `json:"field,omitempty"`
	// Commit names a VCS revision.
	Commit string `json:"commit,omitempty"`
	// Span is the byte range within the text the detector saw.
	Span *Span `json:"span,omitempty"`
}

// String renders the location compactly, e.g. "a/b.py:12:4" or
// "req_abc messages[1].content[10:24]".
func (l Location) String() string {
	var b strings.Builder
	switch {
	case l.Path != "":
		b.WriteString(l.Path)
		if l.Line > 0 {
			fmt.Fprintf(&b, ":%d", l.Line)
			if l.Column > 0 {
				fmt.Fprintf(&b, ":%d", l.Column)
			}
		} else if l.Offset > 0 {
			fmt.Fprintf(&b, "@%d", l.Offset)
		}
		if l.Row > 0 {
			fmt.Fprintf(&b, " row %d", l.Row)
		}
	case l.RequestID != "":
		b.WriteString(l.RequestID)
	case l.Row > 0:
		fmt.Fprintf(&b, "row %d", l.Row)
	}
	if l.Field != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(l.Field)
	}
	if l.Span != nil {
		fmt.Fprintf(&b, "[%d:%d]", l.Span.Start, l.Span.End)
	}
	if l.Commit != "" {
		fmt.Fprintf(&b, " @%s", shortCommit(l.Commit))
	}
	return b.String()
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// Finding is one result on any surface.
type Finding struct {
	// RuleID, Title, Layer, Severity, Remediation and References come from
	// the rule that fired; Severity may be raised or lowered by the caller.
	RuleID      string     `json:"rule_id"`
	Title       string     `json:"title"`
	Layer       Layer      `json:"layer"`
	Severity    Severity   `json:"severity"`
	Confidence  float64    `json:"confidence"`
	Location    Location   `json:"location"`
	Excerpt     string     `json:"excerpt,omitempty"`
	Message     string     `json:"message,omitempty"`
	Remediation string     `json:"remediation,omitempty"`
	References  References `json:"references,omitzero"`
	// Detector names the detector or scanner that produced the finding.
	Detector string `json:"detector,omitempty"`
	// Fingerprint identifies the finding across runs (for baselines); it
	// never contains the matched secret itself.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// New makes a finding from a rule; the caller fills in the location, the
// confidence and the (already redacted) excerpt.
func New(r *Rule, loc Location, confidence float64, excerpt string) Finding {
	return Finding{
		RuleID:      r.ID,
		Title:       r.Title,
		Layer:       r.Layer,
		Severity:    r.Severity,
		Confidence:  confidence,
		Location:    loc,
		Excerpt:     excerpt,
		Remediation: r.Remediation,
		References:  r.References,
	}
}

// Report is a set of findings with what produced them.
type Report struct {
	Tool     string        `json:"tool"`
	Version  string        `json:"version"`
	Command  string        `json:"command,omitempty"`
	Targets  []string      `json:"targets,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Findings []Finding     `json:"findings"`
	// Rules holds the full description of every rule a finding names, when
	// the producer knows them (SARIF writes them to tool.driver.rules).
	Rules []Rule `json:"-"`
}

// Max returns the highest severity in the report and whether there is any
// finding at all.
func (r *Report) Max() (Severity, bool) {
	if len(r.Findings) == 0 {
		return Info, false
	}
	m := Info
	for _, f := range r.Findings {
		if f.Severity > m {
			m = f.Severity
		}
	}
	return m, true
}

// Fails reports whether any finding reaches the severity threshold; scanning
// commands exit non-zero when it does (--fail-on).
func (r *Report) Fails(threshold Severity) bool {
	m, ok := r.Max()
	return ok && m >= threshold
}
