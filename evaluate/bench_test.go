package evaluate

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// nopDetector finds nothing, so benchmarks measure the harness alone.
type nopDetector struct{}

func (nopDetector) Name() string           { return "nop" }
func (nopDetector) Rules() []*finding.Rule { return nil }
func (nopDetector) Detect(context.Context, detect.Input) ([]detect.Hit, error) {
	return nil, nil
}

const benchRow = `{"text": "Please summarise the attached quarterly report and list the three largest risks, with one sentence on each. Keep it under 120 words.", "label": "benign", "source": "bench", "family": "summarise", "lang": "en", "id": "12345"}`

func benchInput(n int) string {
	return strings.Repeat(benchRow+"\n", n)
}

func BenchmarkParseRow(b *testing.B) {
	line := []byte(benchRow)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRow(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckJSONL(b *testing.B) {
	in := benchInput(1000)
	c := &Checker{Detectors: []Checked{{Name: "nop", Detector: nopDetector{}, Threshold: 0.5}}}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CheckJSONL(context.Background(), strings.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	in := benchInput(1000)
	cfg := DefaultConfig("injection")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(context.Background(), nopDetector{}, strings.NewReader(in), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
