package finding

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// JSONSchemaVersion is the version of the document WriteJSON writes. It
// changes only when a field is removed or changes meaning; new fields may be
// added within a version.
const JSONSchemaVersion = 1

// jsonReport is the document WriteJSON describes.
type jsonReport struct {
	SchemaVersion int         `json:"schema_version"`
	Tool          string      `json:"tool"`
	Version       string      `json:"version"`
	Command       string      `json:"command,omitempty"`
	Targets       []string    `json:"targets"`
	Started       time.Time   `json:"started,omitzero"`
	DurationMS    float64     `json:"duration_ms"`
	Summary       jsonSummary `json:"summary"`
	// Findings is streamed after the rest (see openArray); it is only
	// decoded through this field.
	Findings []jsonFinding `json:"findings,omitempty"`
}

type jsonSummary struct {
	Total       int               `json:"total"`
	MaxSeverity string            `json:"max_severity,omitempty"`
	BySeverity  jsonSeverityTally `json:"by_severity"`
	ByLayer     []jsonLayerTally  `json:"by_layer"`
}

type jsonSeverityTally struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

type jsonLayerTally struct {
	Layer      int               `json:"layer"`
	LayerName  string            `json:"layer_name"`
	Total      int               `json:"total"`
	BySeverity jsonSeverityTally `json:"by_severity"`
}

type jsonFinding struct {
	RuleID      string         `json:"rule_id"`
	Title       string         `json:"title"`
	Severity    *Severity      `json:"severity"`
	Confidence  float64        `json:"confidence"`
	Layer       Layer          `json:"layer"`
	LayerName   string         `json:"layer_name"`
	Location    jsonLocation   `json:"location"`
	Excerpt     string         `json:"excerpt,omitempty"`
	Message     string         `json:"message,omitempty"`
	Remediation string         `json:"remediation,omitempty"`
	References  jsonReferences `json:"references"`
	Detector    string         `json:"detector,omitempty"`
	Fingerprint string         `json:"fingerprint"`
}

type jsonLocation struct {
	Location
	Display string `json:"display"`
}

type jsonReferences struct {
	OWASP []string `json:"owasp"`
	ATLAS []string `json:"atlas"`
	CWE   []string `json:"cwe"`
}

func tally(counts *[Critical + 1]int) jsonSeverityTally {
	return jsonSeverityTally{
		Critical: counts[Critical], High: counts[High], Medium: counts[Medium],
		Low: counts[Low], Info: counts[Info],
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteJSON writes r as Rampart's JSON report (schema version 1), indented,
// with the findings in report order. Scripts may rely on every finding
// having a rule_id and a severity that is one of info, low, medium, high or
// critical; ReadJSON reads the document back. The shape:
//
//	{
//	  "schema_version": 1,
//	  "tool": "rampart", "version": "0.1.0", "command": "scan secrets",
//	  "targets": ["."],                       // always an array
//	  "started": "2026-11-27T10:00:00Z",      // RFC 3339, UTC; absent if unknown
//	  "duration_ms": 1234.5,
//	  "summary": {
//	    "total": 3, "max_severity": "critical", // max_severity absent when total is 0
//	    "by_severity": {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 0},
//	    "by_layer": [{"layer": 1, "layer_name": "training data", "total": 0, "by_severity": {…}}, … 7 entries]
//	  },
//	  "findings": [                           // report order; always an array
//	    {
//	      "rule_id": "secrets.aws-access-key", "title": "AWS access key",
//	      "severity": "critical",              // one of info, low, medium, high, critical
//	      "confidence": 0.98,
//	      "layer": 5, "layer_name": "infrastructure",
//	      "location": {"path": "config/prod.env", "line": 3, "column": 9,
//	                   "display": "config/prod.env:3:9"}, // also row, offset, request_id, field, commit, span {start, end} when set
//	      "excerpt": "AKIA************MPLE", "message": "…", "remediation": "…",
//	      "references": {"owasp": ["LLM02:2025"], "atlas": [], "cwe": ["CWE-798"]}, // always three arrays
//	      "detector": "secrets",
//	      "fingerprint": "9f2c…"               // 32 hex digits; derived when the producer set none
//	    }
//	  ]
//	}
//
// Findings are streamed, so a large report is not held in memory twice.
func WriteJSON(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	s := r.Summary()
	doc := jsonReport{
		SchemaVersion: JSONSchemaVersion,
		Tool:          r.Tool,
		Version:       r.Version,
		Command:       r.Command,
		Targets:       nonNil(r.Targets),
		Started:       r.Started.UTC(),
		DurationMS:    float64(r.Duration) / float64(time.Millisecond),
		Summary: jsonSummary{
			Total:      s.Total,
			BySeverity: tally(&s.BySeverity),
			ByLayer:    make([]jsonLayerTally, 0, LayerHumans),
		},
	}
	if m, ok := r.Max(); ok {
		doc.Summary.MaxSeverity = m.String()
	}
	for l := LayerTrainingData; l <= LayerHumans; l++ {
		t := jsonLayerTally{Layer: int(l), LayerName: l.String(), BySeverity: tally(&s.ByLayer[l])}
		for _, n := range s.ByLayer[l] {
			t.Total += n
		}
		doc.Summary.ByLayer = append(doc.Summary.ByLayer, t)
	}
	head, err := json.MarshalIndent(&doc, "", "  ")
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	bw := bufio.NewWriter(w)
	arr, err := openArray(bw, head, "\n}", "findings", 0)
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	var jf jsonFinding
	for _, f := range sorted(r) {
		jf = jsonFinding{
			RuleID:      f.RuleID,
			Title:       f.Title,
			Severity:    &f.Severity,
			Confidence:  f.Confidence,
			Layer:       f.Layer,
			LayerName:   f.Layer.String(),
			Location:    jsonLocation{Location: f.Location, Display: f.Location.String()},
			Excerpt:     f.Excerpt,
			Message:     f.Message,
			Remediation: f.Remediation,
			References: jsonReferences{
				OWASP: nonNil(f.References.OWASP),
				ATLAS: nonNil(f.References.ATLAS),
				CWE:   nonNil(f.References.CWE),
			},
			Detector:    f.Detector,
			Fingerprint: fingerprintOf(f),
		}
		if err := arr.add(&jf); err != nil {
			return fmt.Errorf("write json report: %w", err)
		}
	}
	arr.close()
	return flush(bw, "json")
}

// ReadJSON reads a report written by WriteJSON, for example to merge the
// shards of a large scan. The summary is not read (Report.Summary recomputes
// it), nor is Report.Rules, which the JSON document does not carry. The
// report is validated as the writers validate it. ReadJSON reads all of rd;
// bound it with io.LimitReader when the input is untrusted.
func ReadJSON(rd io.Reader) (*Report, error) {
	dec := json.NewDecoder(rd)
	var doc jsonReport
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read json report: unexpected data after the report")
	}
	if doc.SchemaVersion != JSONSchemaVersion {
		return nil, fmt.Errorf("read json report: schema_version %d not supported (want %d)", doc.SchemaVersion, JSONSchemaVersion)
	}
	ns := doc.DurationMS * float64(time.Millisecond)
	if math.IsNaN(ns) || ns < 0 || ns >= math.MaxInt64 {
		return nil, fmt.Errorf("read json report: duration_ms %v out of range", doc.DurationMS)
	}
	r := &Report{
		Tool:     doc.Tool,
		Version:  doc.Version,
		Command:  doc.Command,
		Targets:  emptyToNil(doc.Targets),
		Started:  doc.Started,
		Duration: time.Duration(math.Round(ns)),
		Findings: make([]Finding, len(doc.Findings)),
	}
	for i := range doc.Findings {
		f := &doc.Findings[i]
		if f.Severity == nil {
			return nil, fmt.Errorf("read json report: finding %d (rule %q): no severity", i, f.RuleID)
		}
		r.Findings[i] = Finding{
			RuleID:      f.RuleID,
			Title:       f.Title,
			Layer:       f.Layer,
			Severity:    *f.Severity,
			Confidence:  f.Confidence,
			Location:    f.Location.Location,
			Excerpt:     f.Excerpt,
			Message:     f.Message,
			Remediation: f.Remediation,
			References: References{
				OWASP: emptyToNil(f.References.OWASP),
				ATLAS: emptyToNil(f.References.ATLAS),
				CWE:   emptyToNil(f.References.CWE),
			},
			Detector:    f.Detector,
			Fingerprint: f.Fingerprint,
		}
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	return r, nil
}

func emptyToNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
