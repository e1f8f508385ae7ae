package evaluate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/rampartsec/rampart/detect"
)

// MinIoU is the overlap a predicted span needs with a gold span to match.
const MinIoU = 0.5

// Config tunes an evaluation. DefaultConfig gives a detector type's
// defaults.
type Config struct {
	// Name is the detector type evaluated (reported, and used to name the
	// report).
	Name string
	// Data names the dataset in the report.
	Data string
	// Threshold is the operating point: a row is flagged when its score
	// (the highest hit score, 0 without hits) is at least Threshold. Span
	// figures count only hits scoring at least Threshold.
	Threshold float64
	// Positive lists the labels that count as positive.
	Positive []string
	// PositiveBySpans makes a row that carries a span field positive when
	// it has at least one gold span of an evaluated type (one TypeMap or
	// MapType maps), whatever its label.
	PositiveBySpans bool
	// TypeMap maps dataset span types to detector labels; {"*": "*"}
	// matches any type with any label. Unmapped types and labels are left
	// out of the span figures (Report.Spans.NotEvaluated).
	TypeMap map[string]string
	// MapType, when set, replaces TypeMap: it returns the detector label a
	// dataset span type corresponds to, or "" when the detector does not
	// look for that type; Labels then lists the detector labels that are
	// evaluated on the predicted side. See RegisterSpanTypes.
	MapType func(datasetType string) string
	Labels  []string
	// Role and Surface are the context of every input; a row's "role"
	// field overrides Role.
	Role    detect.Role
	Surface detect.Surface
	// Repeat runs the detector this many times per row for timing (at
	// least once); a row's latency is the median of its runs.
	Repeat int
	// MaxLine bounds the length of an input line in bytes (0:
	// DefaultMaxLine).
	MaxLine int
}

// Evaluate runs d over the labelled JSONL rows read from data, one at a
// time, and measures it. The first row is also run once untimed before it
// is timed, as a warm-up. Any malformed row stops the evaluation with an
// error naming its line, as does a detector error.
func Evaluate(ctx context.Context, d detect.Detector, data io.Reader, cfg Config) (*Report, error) {
	a := newAccumulator(cfg, "detector")
	rd, isRow := d.(detect.RowDetector)
	repeat := max(cfg.Repeat, 1)
	durs := make([]float64, repeat)
	overhead := timerOverhead()
	warm := false
	a.overheadMS = overhead
	lr := NewLineReader(data, cfg.MaxLine)
	for {
		line, n, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		row, err := ParseRow(line)
		if err != nil {
			return nil, &LineError{Line: n, Err: err}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		role, err := rowRole(row, cfg.Role)
		if err != nil {
			return nil, &LineError{Line: n, Err: err}
		}
		in := detect.Input{Text: row.Text, Role: role, Surface: cfg.Surface}
		var fields map[string]json.RawMessage
		if isRow {
			fields = row.Fields()
		}
		if !warm {
			// One untimed run first, so lazy set-up (a model loaded on
			// first use) is not charged to the first row.
			warm = true
			if isRow {
				_, _ = rd.DetectRow(ctx, in, fields)
			} else {
				_, _ = d.Detect(ctx, in)
			}
		}
		var hits []detect.Hit
		for i := range durs {
			t0 := time.Now()
			if isRow {
				hits, err = rd.DetectRow(ctx, in, fields)
			} else {
				hits, err = d.Detect(ctx, in)
			}
			durs[i] = max(float64(time.Since(t0))/float64(time.Millisecond)-overhead, 0)
			if err != nil {
				return nil, &LineError{Line: n, Err: fmt.Errorf("detector %s: %w", cfg.Name, err)}
			}
		}
		score, err := ScoreOf(hits)
		if err != nil {
			return nil, &LineError{Line: n, Err: fmt.Errorf("detector %s: %w", cfg.Name, err)}
		}
		var pred []labelled
		for _, h := range hits {
			if h.Score >= cfg.Threshold {
				pred = append(pred, labelled{h.Label, Span{Start: h.Start, End: h.End}})
			}
		}
		ms := median(durs)
		if err := a.add(n, row, score, score >= cfg.Threshold, pred, &ms); err != nil {
			return nil, err
		}
	}
	return a.report(), nil
}

// rowRole returns the role of a row: its "role" field, which must name a
// detect.Role, or def when it has none.
func rowRole(row Row, def detect.Role) (detect.Role, error) {
	switch r := detect.Role(row.Role); r {
	case "":
		return def, nil
	case detect.RoleSystem, detect.RoleUser, detect.RoleAssistant, detect.RoleTool, detect.RoleDocument:
		return r, nil
	}
	return "", fmt.Errorf("field \"role\": %q is not system, user, assistant, tool or document", row.Role)
}

// timerOverhead returns the median time, in milliseconds, that an empty
// interval measures: the cost of the clock reads around each detector
// call, subtracted from every latency.
func timerOverhead() float64 {
	xs := make([]float64, 201)
	for i := range xs {
		t0 := time.Now()
		xs[i] = float64(time.Since(t0)) / float64(time.Millisecond)
	}
	return Percentile(xs, 50)
}

// ScoreOf returns the score of a text: the highest score of its hits, 0
// when there are none. A score outside [0, 1] (or NaN) is an error.
func ScoreOf(hits []detect.Hit) (float64, error) {
	s := 0.0
	for _, h := range hits {
		if !(h.Score >= 0 && h.Score <= 1) {
			return 0, fmt.Errorf("hit score %v outside [0, 1]", h.Score)
		}
		s = max(s, h.Score)
	}
	return s, nil
}

func median(xs []float64) float64 {
	if len(xs) == 1 {
		return xs[0]
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// predictionLine is one line of a predictions file.
type predictionLine struct {
	Score    *float64           `json:"score"`
	Flagged  *bool              `json:"flagged"`
	Findings []predictedFinding `json:"findings"`
	MS       *float64           `json:"ms"`
	Error    *string            `json:"error"`
}

type predictedFinding struct {
	Label string   `json:"label"`
	Start *int     `json:"start"`
	End   *int     `json:"end"`
	Score *float64 `json:"score"`
}

// EvaluatePredictions measures another tool's predictions: line i of preds
// (in the shape CheckJSONL writes: "score", optional "flagged", optional
// "findings" with byte "start", "end" and "label", optional "ms") is the
// prediction for the i-th row of data. A row is flagged by its "flagged"
// field, or when absent by score >= cfg.Threshold; a finding counts for the
// span figures when it has no score or scores at least cfg.Threshold.
// Speed is reported when every line has "ms". A line with an "error", a
// missing score, or a count of lines different from data's rows is an
// error.
func EvaluatePredictions(ctx context.Context, data, preds io.Reader, cfg Config) (*Report, error) {
	a := newAccumulator(cfg, "predictions")
	lr := NewLineReader(data, cfg.MaxLine)
	pr := NewLineReader(preds, cfg.MaxLine)
	for {
		line, n, err := lr.Next()
		pline, pn, perr := pr.Next()
		if err == io.EOF && perr == io.EOF {
			break
		}
		if err == io.EOF {
			return nil, fmt.Errorf("predictions: line %d has no data row (the data has fewer rows)", pn)
		}
		if perr == io.EOF {
			return nil, fmt.Errorf("data: line %d has no prediction (the predictions have fewer lines)", n)
		}
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if perr != nil {
			return nil, fmt.Errorf("predictions: %w", perr)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row, err := ParseRow(line)
		if err != nil {
			return nil, fmt.Errorf("data: %w", &LineError{Line: n, Err: err})
		}
		var p predictionLine
		if err := json.Unmarshal(pline, &p); err != nil {
			return nil, fmt.Errorf("predictions: %w", &LineError{Line: pn, Err: fmt.Errorf("malformed JSON: %w", err)})
		}
		if p.Error != nil {
			return nil, fmt.Errorf("predictions: %w", &LineError{Line: pn, Err: fmt.Errorf("the tool reported an error: %s", *p.Error)})
		}
		if p.Score == nil || !(*p.Score >= 0 && *p.Score <= 1) {
			return nil, fmt.Errorf("predictions: %w", &LineError{Line: pn, Err: errors.New(`"score" missing or outside [0, 1]`)})
		}
		flagged := *p.Score >= cfg.Threshold
		if p.Flagged != nil {
			flagged = *p.Flagged
		}
		var pred []labelled
		for i, f := range p.Findings {
			if f.Start == nil || f.End == nil || *f.Start < 0 || *f.End < *f.Start {
				return nil, fmt.Errorf("predictions: %w", &LineError{Line: pn, Err: fmt.Errorf("finding %d: missing or invalid start/end", i)})
			}
			if f.Score != nil && *f.Score < cfg.Threshold {
				continue
			}
			pred = append(pred, labelled{f.Label, Span{Start: *f.Start, End: *f.End}})
		}
		if p.MS != nil && !(*p.MS >= 0) {
			return nil, fmt.Errorf("predictions: %w", &LineError{Line: pn, Err: errors.New(`"ms" is negative`)})
		}
		if err := a.add(n, row, *p.Score, flagged, pred, p.MS); err != nil {
			return nil, err
		}
	}
	return a.report(), nil
}

// labelled is a predicted span with the detector's label.
type labelled struct {
	label string
	span  Span
}

type spanCounts struct {
	gold, pred, matched, exact int
}

type accumulator struct {
	cfg      Config
	mode     string
	positive map[string]bool
	wildcard bool
	labels   map[string]bool // detector labels that are evaluated

	all      Counts
	pos, neg []float64
	groups   [3]map[string]*Counts // family, lang, source

	spanField  string
	spanRows   int
	spans      map[string]*spanCounts
	notEvalG   map[string]int
	notEvalP   map[string]int
	lat        []float64
	overheadMS float64
	bytes      int64
	untimed    bool
}

func newAccumulator(cfg Config, mode string) *accumulator {
	a := &accumulator{cfg: cfg, mode: mode, positive: map[string]bool{}, labels: map[string]bool{},
		spans: map[string]*spanCounts{}, notEvalG: map[string]int{}, notEvalP: map[string]int{}}
	for _, l := range cfg.Positive {
		a.positive[l] = true
	}
	if cfg.MapType != nil {
		for _, l := range cfg.Labels {
			a.labels[l] = true
		}
	} else {
		for k, v := range cfg.TypeMap {
			if k == "*" && v == "*" {
				a.wildcard = true
			}
			a.labels[v] = true
		}
	}
	for i := range a.groups {
		a.groups[i] = map[string]*Counts{}
	}
	return a
}

func (a *accumulator) add(line int, row Row, score float64, flagged bool, pred []labelled, ms *float64) error {
	positive := a.positive[row.Label]
	// Span figures.
	field := ""
	gold, has, err := row.Spans("entities")
	if err != nil {
		return &LineError{Line: line, Err: err}
	}
	if has {
		field = "entities"
	} else if gold, has, err = row.Spans("secrets"); err != nil {
		return &LineError{Line: line, Err: err}
	} else if has {
		field = "secrets"
	}
	if has {
		if a.spanField == "" {
			a.spanField = field
		}
		a.spanRows++
		evaluated := a.addSpans(gold, pred)
		if a.cfg.PositiveBySpans {
			positive = evaluated > 0
		}
	}
	a.all.Add(positive, flagged)
	if positive {
		a.pos = append(a.pos, score)
	} else {
		a.neg = append(a.neg, score)
	}
	for i, v := range [3]string{row.Family, row.Lang, row.Source} {
		if v == "" {
			continue
		}
		c := a.groups[i][v]
		if c == nil {
			c = &Counts{}
			a.groups[i][v] = c
		}
		c.Add(positive, flagged)
	}
	if ms == nil {
		a.untimed = true
	} else {
		a.lat = append(a.lat, *ms)
		a.bytes += int64(len(row.Text))
	}
	return nil
}

// addSpans matches one row's spans type by type.
// addSpans matches a row's gold and predicted spans and returns how many
// gold spans are of an evaluated type.
func (a *accumulator) addSpans(gold []Span, pred []labelled) int {
	evaluated := 0
	byType := map[string][2][]Span{} // type -> gold, pred
	for _, g := range gold {
		t, ok := a.cfg.TypeMap[g.Type]
		if a.cfg.MapType != nil {
			t = a.cfg.MapType(g.Type)
			ok = t != "" && a.labels[t]
		}
		if a.wildcard {
			t, ok = "*", true
		}
		if !ok {
			a.notEvalG[g.Type]++
			continue
		}
		evaluated++
		e := byType[t]
		e[0] = append(e[0], g)
		byType[t] = e
	}
	for _, p := range pred {
		t := p.label
		if a.wildcard {
			t = "*"
		} else if !a.labels[t] {
			a.notEvalP[t]++
			continue
		}
		e := byType[t]
		e[1] = append(e[1], p.span)
		byType[t] = e
	}
	for t, e := range byType {
		c := a.spans[t]
		if c == nil {
			c = &spanCounts{}
			a.spans[t] = c
		}
		c.gold += len(e[0])
		c.pred += len(e[1])
		c.matched += MatchSpans(e[0], e[1], MinIoU, false)
		c.exact += MatchSpans(e[0], e[1], MinIoU, true)
	}
	return evaluated
}

func (a *accumulator) report() *Report {
	r := &Report{
		Detector:        a.cfg.Name,
		Data:            a.cfg.Data,
		Mode:            a.mode,
		Threshold:       a.cfg.Threshold,
		PositiveLabels:  slices.Clone(a.cfg.Positive),
		PositiveBySpans: a.cfg.PositiveBySpans,
		Overall:         scoresOf(a.all),
		ByFamily:        groupsOf(a.groups[0]),
		ByLang:          groupsOf(a.groups[1]),
		BySource:        groupsOf(a.groups[2]),
	}
	if r.PositiveLabels == nil {
		r.PositiveLabels = []string{}
	}
	if rec, t, ok := RecallAtFPR(a.pos, a.neg, 0.01); ok {
		r.RecallAt1PctFPR, r.ThresholdAt1PctFPR = &rec, finite(t)
	}
	if rec, t, ok := RecallAtFPR(a.pos, a.neg, 0.05); ok {
		r.RecallAt5PctFPR, r.ThresholdAt5PctFPR = &rec, finite(t)
	}
	if auc, ok := AUC(a.pos, a.neg); ok {
		r.ROCAUC = &auc
	}
	if a.spanRows > 0 {
		sr := &SpanReport{Field: a.spanField, Rows: a.spanRows, MinIoU: MinIoU, Micro: SpanScores{Type: "all"},
			Types: []SpanScores{}, NotEvaluated: []NotEvaluated{}}
		for t, c := range a.spans {
			s := SpanScores{Type: t, Gold: c.gold, Predicted: c.pred, Matched: c.matched, MatchedExact: c.exact}
			s.finish()
			sr.Types = append(sr.Types, s)
			sr.Micro.Gold += c.gold
			sr.Micro.Predicted += c.pred
			sr.Micro.Matched += c.matched
			sr.Micro.MatchedExact += c.exact
		}
		sr.Micro.finish()
		sort.Slice(sr.Types, func(i, j int) bool { return sr.Types[i].Type < sr.Types[j].Type })
		for side, m := range map[string]map[string]int{"gold": a.notEvalG, "predicted": a.notEvalP} {
			for t, n := range m {
				sr.NotEvaluated = append(sr.NotEvaluated, NotEvaluated{Side: side, Type: t, Count: n})
			}
		}
		sort.Slice(sr.NotEvaluated, func(i, j int) bool {
			x, y := sr.NotEvaluated[i], sr.NotEvaluated[j]
			if x.Side != y.Side {
				return x.Side < y.Side
			}
			return x.Type < y.Type
		})
		r.Spans = sr
	}
	if !a.untimed && len(a.lat) > 0 {
		sp := &Speed{Items: len(a.lat), Bytes: a.bytes, Repeat: max(a.cfg.Repeat, 1), TimerOverheadMS: a.overheadMS}
		if a.mode == "predictions" {
			sp.Repeat = 1
		}
		for _, v := range a.lat {
			sp.TotalMS += v
		}
		sp.P50MS = Percentile(a.lat, 50)
		sp.P99MS = Percentile(a.lat, 99)
		if sp.TotalMS > 0 {
			sp.MBPerS = float64(a.bytes) / 1e6 / (sp.TotalMS / 1000)
		}
		if math.IsInf(sp.MBPerS, 0) || math.IsNaN(sp.MBPerS) {
			sp.MBPerS = 0
		}
		r.Speed = sp
	}
	return r
}
