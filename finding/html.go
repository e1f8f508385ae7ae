package finding

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// htmlMaxExcerpt bounds an excerpt in the HTML page, in characters.
const htmlMaxExcerpt = 2000

type htmlData struct {
	Title         string
	Tool          string
	Version       string
	Command       string
	Targets       []string
	Started       string
	Duration      string
	Total         int
	BySeverity    []htmlCount
	SeverityNames []string
	Layers        []htmlLayer
	Findings      []htmlFinding
}

type htmlCount struct {
	Name  string
	Count int
}

type htmlLayer struct {
	Num    int
	Name   string
	Counts []int // critical first
	Total  int
}

type htmlFinding struct {
	Severity    string
	Confidence  string
	RuleID      string
	Title       string
	Message     string
	Detector    string
	Layer       int
	LayerName   string
	Location    string
	Fingerprint string
	Excerpt     string
	Remediation string
	Refs        []refLink
}

// WriteHTML writes r as one self-contained HTML page: inline CSS, no
// external assets and no script (a Content-Security-Policy forbids both),
// with a summary by severity and by layer and a table of the findings in
// report order that links their OWASP, ATLAS and CWE references. The
// severity filter works with CSS alone. Every string goes through
// html/template's contextual escaping, and control and bidirectional
// characters are shown as escapes.
func WriteHTML(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	s := r.Summary()
	tool := r.Tool
	if tool == "" {
		tool = "rampart"
	}
	d := htmlData{
		Title:   "Rampart report",
		Tool:    visible(tool),
		Version: visible(r.Version),
		Command: visible(r.Command),
		Total:   s.Total,
	}
	if r.Command != "" {
		d.Title += ": " + d.Command
	}
	for _, t := range r.Targets {
		d.Targets = append(d.Targets, visible(t))
	}
	if !r.Started.IsZero() {
		d.Started = r.Started.UTC().Format(time.RFC3339)
	}
	if r.Duration > 0 {
		d.Duration = r.Duration.Round(time.Millisecond).String()
	}
	for sev := Critical; sev >= Info; sev-- {
		d.BySeverity = append(d.BySeverity, htmlCount{Name: sev.String(), Count: s.BySeverity[sev]})
		d.SeverityNames = append(d.SeverityNames, sev.String())
	}
	for l := LayerTrainingData; l <= LayerHumans; l++ {
		hl := htmlLayer{Num: int(l), Name: l.String()}
		for sev := Critical; sev >= Info; sev-- {
			n := s.ByLayer[l][sev]
			hl.Counts = append(hl.Counts, n)
			hl.Total += n
		}
		d.Layers = append(d.Layers, hl)
	}
	d.Findings = make([]htmlFinding, len(r.Findings))
	for i, f := range sorted(r) {
		d.Findings[i] = htmlFinding{
			Severity:    f.Severity.String(),
			Confidence:  "confidence " + strconv.FormatFloat(f.Confidence, 'f', 2, 64),
			RuleID:      visible(f.RuleID),
			Title:       visible(f.Title),
			Message:     visible(f.Message),
			Detector:    visible(f.Detector),
			Layer:       int(f.Layer),
			LayerName:   f.Layer.String(),
			Location:    visible(f.Location.String()),
			Fingerprint: visible(fingerprintOf(f)),
			Excerpt:     clip(visible(f.Excerpt), htmlMaxExcerpt),
			Remediation: visible(f.Remediation),
			Refs:        visibleRefs(referenceLinks(f.References)),
		}
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, &d); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return flush(bw, "html")
}

func visibleRefs(links []refLink) []refLink {
	for i := range links {
		links[i].Label = visible(links[i].Label)
	}
	return links
}
