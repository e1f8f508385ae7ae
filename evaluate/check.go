package evaluate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/redact"
)

// Checked is one detector a Checker runs.
type Checked struct {
	// Name is reported with each finding.
	Name string
	// Detector is the detector.
	Detector detect.Detector
	// Threshold is its operating point.
	Threshold float64
}

// Checker runs detectors over texts and renders what they find with the
// matched values masked.
type Checker struct {
	Detectors []Checked
	// Role and Surface are the context of every input; a JSONL row's
	// "role" field overrides Role.
	Role    detect.Role
	Surface detect.Surface
	// MaxLine bounds a JSONL line in bytes (0: DefaultMaxLine).
	MaxLine int
}

// Result is the outcome for one text, in the shape `rampart check --jsonl`
// writes one per input line (and EvaluatePredictions reads).
type Result struct {
	// Score is the highest score of any hit, 0 when there is none.
	Score float64 `json:"score"`
	// Flagged is true when some detector's highest score reaches its
	// threshold.
	Flagged bool `json:"flagged"`
	// Findings are every hit, ordered by start, then detector.
	Findings []Finding `json:"findings"`
}

// Finding is one hit as check reports it: never the matched value itself,
// only a redacted excerpt.
type Finding struct {
	Detector string  `json:"detector"`
	RuleID   string  `json:"rule_id"`
	Severity string  `json:"severity"`
	Label    string  `json:"label"`
	Start    int     `json:"start"`
	End      int     `json:"end"`
	Score    float64 `json:"score"`
	Excerpt  string  `json:"excerpt"`
}

// Check runs every detector on in (DetectRow with fields when a detector
// is a detect.RowDetector and fields is not nil).
func (c *Checker) Check(ctx context.Context, in detect.Input, fields map[string]json.RawMessage) (Result, error) {
	res := Result{Findings: []Finding{}}
	var hits []detect.Hit
	var names []string
	for _, d := range c.Detectors {
		var hs []detect.Hit
		var err error
		if rd, ok := d.Detector.(detect.RowDetector); ok && fields != nil {
			hs, err = rd.DetectRow(ctx, in, fields)
		} else {
			hs, err = d.Detector.Detect(ctx, in)
		}
		if err != nil {
			return Result{}, fmt.Errorf("detector %s: %w", d.Name, err)
		}
		s, err := ScoreOf(hs)
		if err != nil {
			return Result{}, fmt.Errorf("detector %s: %w", d.Name, err)
		}
		for _, h := range hs {
			if h.Start < 0 || h.End < h.Start || h.End > len(in.Text) {
				return Result{}, fmt.Errorf("detector %s: hit [%d, %d) outside the text", d.Name, h.Start, h.End)
			}
		}
		if s >= d.Threshold {
			res.Flagged = true
		}
		res.Score = max(res.Score, s)
		hits = append(hits, hs...)
		for range hs {
			names = append(names, d.Name)
		}
	}
	idx := make([]int, len(hits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return hits[idx[a]].Start < hits[idx[b]].Start })
	for _, i := range idx {
		h := hits[i]
		f := Finding{Detector: names[i], Label: h.Label, Start: h.Start, End: h.End, Score: h.Score,
			Excerpt: redact.ExcerptHit(in.Text, hits, i)}
		if h.Rule != nil {
			f.RuleID = h.Rule.ID
			f.Severity = h.Rule.Severity.String()
		}
		res.Findings = append(res.Findings, f)
	}
	return res, nil
}

// Summary counts what CheckJSONL did.
type Summary struct {
	// Lines is the number of output lines written (one per input line).
	Lines int
	// Flagged and Errors count the flagged lines and the error lines.
	Flagged int
	Errors  int
}

// errorLine is what CheckJSONL writes for an input line it cannot check.
type errorLine struct {
	Error string `json:"error"`
}

// CheckJSONL reads JSONL rows from r and writes one JSON object per input
// line to w, in order, flushing each line: a Result, or
// {"error": "line N: …"} when the line is malformed (empty, invalid UTF-8 or JSON,
// a missing or non-string "text", longer than MaxLine) or a detector fails
// on it. Such lines do not stop the run; reading and writing errors and a
// cancelled ctx do. Memory stays bounded by MaxLine.
func (c *Checker) CheckJSONL(ctx context.Context, r io.Reader, w io.Writer) (Summary, error) {
	var sum Summary
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	lr := NewLineReader(r, c.MaxLine)
	for {
		line, n, err := lr.Next()
		if err == io.EOF {
			return sum, nil
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		var out any
		var le *LineError
		switch {
		case errors.As(err, &le):
			out = errorLine{le.Error()}
		case err != nil:
			return sum, fmt.Errorf("read input: %w", err)
		default:
			res, err := c.checkLine(ctx, line)
			if err != nil {
				out = errorLine{(&LineError{Line: n, Err: err}).Error()}
			} else {
				out = res
				if res.Flagged {
					sum.Flagged++
				}
			}
		}
		if _, ok := out.(errorLine); ok {
			sum.Errors++
		}
		if err := enc.Encode(out); err != nil {
			return sum, fmt.Errorf("write output: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return sum, fmt.Errorf("write output: %w", err)
		}
		sum.Lines++
	}
}

func (c *Checker) checkLine(ctx context.Context, line []byte) (Result, error) {
	row, err := ParseRow(line)
	if err != nil {
		return Result{}, err
	}
	role, err := rowRole(row, c.Role)
	if err != nil {
		return Result{}, err
	}
	in := detect.Input{Text: row.Text, Role: role, Surface: c.Surface}
	var fields map[string]json.RawMessage
	for _, d := range c.Detectors {
		if _, ok := d.Detector.(detect.RowDetector); ok {
			fields = row.Fields()
			break
		}
	}
	return c.Check(ctx, in, fields)
}
