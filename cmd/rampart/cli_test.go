package main

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// run executes cmd in-process with args and stdin and returns its output
// and exit code (0, or the exitError code; 1 for other errors, as main).
func run(t *testing.T, cmd *cobra.Command, stdin string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if msg := err.Error(); msg != "" {
			out.WriteString("error: " + msg + "\n")
		}
	}
	return out.String(), code
}

var scoreRule = &finding.Rule{ID: "score.fixed", Title: "score", Severity: finding.Medium}

// scoreDetector is a classifier-like fake: "s=0.7 …" scores 0.7 over the
// whole text; its calibrated threshold comes from the "threshold" option.
type scoreDetector struct{ thr float64 }

func (d *scoreDetector) Name() string           { return "score" }
func (d *scoreDetector) Rules() []*finding.Rule { return []*finding.Rule{scoreRule} }
func (d *scoreDetector) Threshold() float64     { return d.thr }
func (d *scoreDetector) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	v, ok := strings.CutPrefix(in.Text, "s=")
	if !ok {
		return nil, nil
	}
	num, _, _ := strings.Cut(v, " ")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return nil, errors.New("bad score")
	}
	return []detect.Hit{{Rule: scoreRule, Start: 0, End: len(in.Text), Score: f, Label: "SCORE"}}, nil
}

// testRegistry has the fake "score" detector and the real built-in types.
func testRegistry(t *testing.T) *detect.Registry {
	t.Helper()
	reg := detect.NewRegistry()
	reg.Register("score", func(opts map[string]any) (detect.Detector, error) {
		o := detect.Options(opts)
		if err := o.Check("threshold_pct"); err != nil {
			return nil, err
		}
		pct, err := o.Int("threshold_pct", 50)
		if err != nil {
			return nil, err
		}
		return &scoreDetector{thr: float64(pct) / 100}, nil
	})
	reg.Register("context", func(map[string]any) (detect.Detector, error) { return contextDetector{}, nil })
	for _, typ := range []string{"secrets", "pii", "length"} {
		reg.Register(typ, func(opts map[string]any) (detect.Detector, error) { return detect.Default.New(typ, opts) })
	}
	return reg
}

// contextDetector reports the input's role and surface as a hit label.
type contextDetector struct{}

func (contextDetector) Name() string           { return "context" }
func (contextDetector) Rules() []*finding.Rule { return []*finding.Rule{scoreRule} }
func (contextDetector) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	return []detect.Hit{{Rule: scoreRule, Start: 0, End: len(in.Text), Score: 0.1, Label: string(in.Role) + "/" + string(in.Surface)}}, nil
}
