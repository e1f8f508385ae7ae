package finding

import (
	"fmt"
	"io"
	"testing"
)

// bigReport has n findings spread over 50 rules, files and requests, half
// of them without a fingerprint of their own.
func bigReport(n int) *Report {
	rules := make([]Rule, 50)
	for i := range rules {
		rules[i] = Rule{
			ID: fmt.Sprintf("family%d.rule-%d", i%7, i), Title: fmt.Sprintf("Rule number %d", i),
			Layer: Layer(i%7 + 1), Severity: Severity(i % 5),
			Remediation: "Rotate the credential and move it to a secret store.",
			References:  References{OWASP: []string{"LLM02:2025"}, ATLAS: []string{"AML.T0051"}, CWE: []string{"CWE-798"}},
		}
	}
	r := &Report{Tool: "rampart", Version: "0.1.0", Command: "scan all", Targets: []string{"."}, Rules: rules[:25]}
	r.Findings = make([]Finding, n)
	for i := range r.Findings {
		ru := &rules[(i*7)%len(rules)]
		var loc Location
		switch i % 3 {
		case 0:
			loc = Location{Path: fmt.Sprintf("src/pkg%d/file%d.py", i%97, i%13), Line: i%500 + 1, Column: i%80 + 1}
		case 1:
			loc = Location{RequestID: fmt.Sprintf("req_%08d", i), Field: "messages[1].content", Span: &Span{Start: i % 100, End: i%100 + 20}}
		default:
			loc = Location{Path: "data/train.jsonl", Row: int64(i), Field: "text", Span: &Span{Start: 3, End: 19}}
		}
		f := New(ru, loc, 0.9, "AKIA************MPLE and some context around it")
		if i%2 == 0 {
			f.Fingerprint = Fingerprint(ru.ID, loc, fmt.Sprintf("secret-%d", i))
		}
		r.Findings[i] = f
	}
	return r
}

func benchmarkWrite(b *testing.B, f Format) {
	r := bigReport(10000)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		cw := &countingWriter{}
		if err := Write(cw, f, r); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	b.SetBytes(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/finding")
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return io.Discard.Write(p)
}

func BenchmarkWrite10k(b *testing.B) {
	for f := FormatTable; f <= FormatHTML; f++ {
		b.Run(f.String(), func(b *testing.B) { benchmarkWrite(b, f) })
	}
}
