package finding

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"table", FormatTable, false},
		{"text", FormatTable, false},
		{"TEXT", FormatTable, false},
		{" json ", FormatJSON, false},
		{"sarif", FormatSARIF, false},
		{"Html", FormatHTML, false},
		{"", 0, true},
		{"xml", 0, true},
		{"sarif2", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseFormat(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "table, json, sarif, html") {
			t.Errorf("ParseFormat(%q) error %q does not list the formats", tc.in, err)
		}
	}
	for f := FormatTable; f <= FormatHTML; f++ {
		b, err := f.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Format
		if err := back.UnmarshalText(b); err != nil || back != f {
			t.Errorf("%v does not round-trip through text: %v, %v", f, back, err)
		}
	}
	if _, err := Format(9).MarshalText(); err == nil {
		t.Error("MarshalText of an invalid format succeeded")
	}
}

func TestValidate(t *testing.T) {
	ok := func() Finding {
		return Finding{RuleID: "r", Layer: LayerOutput, Severity: Low, Confidence: 0.5, Location: Location{Path: "a"}}
	}
	tests := []struct {
		name   string
		mutate func(r *Report)
		want   string // substring of the error; "" for no error
	}{
		{"valid", func(r *Report) {}, ""},
		{"empty rule id", func(r *Report) { r.Findings[1].RuleID = " " }, "finding 1"},
		{"severity", func(r *Report) { r.Findings[0].Severity = Critical + 1 }, "invalid severity 5"},
		{"negative severity", func(r *Report) { r.Findings[0].Severity = -1 }, "invalid severity -1"},
		{"layer 0", func(r *Report) { r.Findings[0].Layer = 0 }, "invalid layer 0"},
		{"layer 8", func(r *Report) { r.Findings[0].Layer = 8 }, "invalid layer 8"},
		{"NaN confidence", func(r *Report) { r.Findings[0].Confidence = math.NaN() }, "confidence NaN"},
		{"confidence above 1", func(r *Report) { r.Findings[0].Confidence = 1.5 }, "confidence 1.5"},
		{"negative line", func(r *Report) { r.Findings[0].Location.Line = -1 }, "negative line"},
		{"backwards span", func(r *Report) { r.Findings[0].Location.Span = &Span{Start: 5, End: 2} }, "invalid span [5:2]"},
		{"bad rule", func(r *Report) { r.Rules = []Rule{{ID: "x", Layer: LayerOutput, Severity: 7}} }, `rule 0 ("x")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Findings: []Finding{ok(), ok()}}
			tc.mutate(r)
			err := r.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
			// Every writer refuses the report and writes nothing.
			for f := FormatTable; f <= FormatHTML; f++ {
				var buf bytes.Buffer
				if err := Write(&buf, f, r); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Write(%v) = %v, want an error containing %q", f, err, tc.want)
				}
				if buf.Len() != 0 {
					t.Errorf("Write(%v) wrote %d bytes of an invalid report", f, buf.Len())
				}
			}
		})
	}
	var nilReport *Report
	if err := Write(&bytes.Buffer{}, FormatJSON, nilReport); err == nil {
		t.Error("Write of a nil report succeeded")
	}
	if err := Write(&bytes.Buffer{}, Format(42), sampleReport()); err == nil {
		t.Error("Write with an unknown format succeeded")
	}
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errDiskFull
	}
	n := min(len(p), w.after)
	w.after -= n
	if n < len(p) {
		return n, errDiskFull
	}
	return n, nil
}

func TestWriteErrors(t *testing.T) {
	for f := FormatTable; f <= FormatHTML; f++ {
		var full bytes.Buffer
		if err := Write(&full, f, longReport()); err != nil {
			t.Fatal(err)
		}
		for _, after := range []int{0, full.Len() / 2, full.Len() - 1} {
			err := Write(&failingWriter{after: after}, f, longReport())
			if !errors.Is(err, errDiskFull) {
				t.Errorf("Write(%v) to a writer failing after %d bytes = %v, want %v", f, after, err, errDiskFull)
			}
			if err != nil && !strings.Contains(err.Error(), f.String()) {
				t.Errorf("Write(%v) error %q does not name the format", f, err)
			}
		}
	}
}

func TestWriteDoesNotModifyReport(t *testing.T) {
	r := sampleReport()
	before := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		before[i] = f.RuleID
	}
	for f := FormatTable; f <= FormatHTML; f++ {
		if err := Write(&bytes.Buffer{}, f, r); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range r.Findings {
		if f.RuleID != before[i] {
			t.Fatalf("Write reordered the report's findings: %d is %s, was %s", i, f.RuleID, before[i])
		}
	}
	// Findings[0] (deps.unpinned) has no fingerprint of its own.
	if r.Findings[0].Fingerprint != "" {
		t.Error("Write filled in a derived fingerprint on the caller's finding")
	}
}
