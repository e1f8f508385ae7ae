package evaluate

import (
	"fmt"
	"math"
	"sort"
)

// Report is the outcome of an evaluation. Its JSON field names are stable
// (docs/detectors/check-and-eval.md); a figure that is undefined (a ratio with a
// zero denominator) is null.
type Report struct {
	// Detector is the detector type evaluated.
	Detector string `json:"detector"`
	// Data names the dataset.
	Data string `json:"data,omitempty"`
	// Mode is "detector" (our detector was run) or "predictions" (another
	// tool's predictions were read).
	Mode string `json:"mode"`
	// Threshold is the operating point: a row is flagged when its score is
	// at least Threshold (in predictions mode, when its "flagged" is true).
	Threshold float64 `json:"threshold"`
	// PositiveLabels are the labels counted as positive.
	PositiveLabels []string `json:"positive_labels"`
	// PositiveBySpans is true when rows with a gold span of an evaluated type
	// counted as positive.
	PositiveBySpans bool `json:"positive_by_spans,omitempty"`
	// Overall is the confusion matrix and its ratios over every row.
	Overall Scores `json:"overall"`
	// RecallAt1PctFPR and RecallAt5PctFPR are the recall at the lowest
	// threshold keeping the false-positive rate at or below 1 % and 5 %;
	// ThresholdAt… are those thresholds (null when no score qualifies).
	RecallAt1PctFPR    *float64 `json:"recall_at_1pct_fpr"`
	ThresholdAt1PctFPR *float64 `json:"threshold_at_1pct_fpr"`
	RecallAt5PctFPR    *float64 `json:"recall_at_5pct_fpr"`
	ThresholdAt5PctFPR *float64 `json:"threshold_at_5pct_fpr"`
	// ROCAUC is the area under the ROC curve (Mann–Whitney, ties count
	// one half).
	ROCAUC *float64 `json:"roc_auc"`
	// ByFamily, ByLang and BySource break Overall down by the rows' fields
	// of those names, sorted by value; rows without the field are left out.
	ByFamily []Group `json:"by_family"`
	ByLang   []Group `json:"by_lang"`
	BySource []Group `json:"by_source"`
	// Spans holds span-level figures when rows carry gold spans.
	Spans *SpanReport `json:"spans,omitempty"`
	// Speed is the detector's speed; nil in predictions mode unless every
	// prediction carried "ms".
	Speed *Speed `json:"speed,omitempty"`
}

// Scores is a confusion matrix with its ratios.
type Scores struct {
	N         int      `json:"n"`
	Positives int      `json:"positives"`
	Negatives int      `json:"negatives"`
	TP        int      `json:"tp"`
	FP        int      `json:"fp"`
	FN        int      `json:"fn"`
	TN        int      `json:"tn"`
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
	F1        *float64 `json:"f1"`
	FPR       *float64 `json:"fpr"`
}

func scoresOf(c Counts) Scores {
	return Scores{
		N: c.TP + c.FP + c.FN + c.TN, Positives: c.TP + c.FN, Negatives: c.FP + c.TN,
		TP: c.TP, FP: c.FP, FN: c.FN, TN: c.TN,
		Precision: c.Precision(), Recall: c.Recall(), F1: c.F1(), FPR: c.FPR(),
	}
}

// Group is Scores for the rows sharing one value of a field.
type Group struct {
	Value string `json:"value"`
	Scores
}

func groupsOf(m map[string]*Counts) []Group {
	out := make([]Group, 0, len(m))
	for v, c := range m {
		out = append(out, Group{Value: v, Scores: scoresOf(*c)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// SpanReport holds span-level figures. A predicted span matches a gold
// span of the same (mapped) type when their IoU is at least MinIoU; each
// span matches at most once. The exact figures require equal boundaries.
type SpanReport struct {
	// Field is the row field the gold spans came from.
	Field string `json:"field"`
	// Rows is how many rows carried the field.
	Rows int `json:"rows"`
	// MinIoU is the matching threshold (0.5).
	MinIoU float64 `json:"min_iou"`
	// Micro sums every evaluated type.
	Micro SpanScores `json:"micro"`
	// Types has one entry per evaluated type (detector label), sorted.
	Types []SpanScores `json:"types"`
	// NotEvaluated lists gold types and predicted labels outside the type
	// map, ignored on both sides, with their counts.
	NotEvaluated []NotEvaluated `json:"not_evaluated"`
}

// SpanScores are span-level figures for one type.
type SpanScores struct {
	Type           string   `json:"type"`
	Gold           int      `json:"gold"`
	Predicted      int      `json:"predicted"`
	Matched        int      `json:"matched"`
	MatchedExact   int      `json:"matched_exact"`
	Precision      *float64 `json:"precision"`
	Recall         *float64 `json:"recall"`
	F1             *float64 `json:"f1"`
	ExactPrecision *float64 `json:"exact_precision"`
	ExactRecall    *float64 `json:"exact_recall"`
	ExactF1        *float64 `json:"exact_f1"`
}

func (s *SpanScores) finish() {
	s.Precision = ratio(s.Matched, s.Predicted)
	s.Recall = ratio(s.Matched, s.Gold)
	s.F1 = ratio(2*s.Matched, s.Gold+s.Predicted)
	s.ExactPrecision = ratio(s.MatchedExact, s.Predicted)
	s.ExactRecall = ratio(s.MatchedExact, s.Gold)
	s.ExactF1 = ratio(2*s.MatchedExact, s.Gold+s.Predicted)
}

// NotEvaluated is a span type left out of the span figures.
type NotEvaluated struct {
	// Side is "gold" (a dataset type) or "predicted" (a detector label).
	Side  string `json:"side"`
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// Speed is the detector's measured speed, single-threaded.
type Speed struct {
	// Items and Bytes are the rows and text bytes timed.
	Items int   `json:"items"`
	Bytes int64 `json:"bytes"`
	// Repeat is how many times each row was run; a row's latency is the
	// median of its runs, less TimerOverheadMS (never below 0). The first
	// row also gets one untimed warm-up run.
	Repeat int `json:"repeat"`
	// TotalMS is the sum of the rows' latencies.
	TotalMS float64 `json:"total_ms"`
	// P50MS and P99MS are nearest-rank percentiles of the rows' latencies.
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	// MBPerS is Bytes / TotalMS, in 10^6 bytes per second.
	MBPerS float64 `json:"mb_per_s"`
	// TimerOverheadMS is the median duration of an empty timed interval,
	// measured before the run and subtracted from every latency (0 in
	// predictions mode).
	TimerOverheadMS float64 `json:"timer_overhead_ms"`
}

// Figure names a report figure for floors. Overall figures: precision,
// recall, f1, fpr, recall_at_1pct_fpr, recall_at_5pct_fpr, roc_auc;
// span figures (micro over evaluated types): span_precision, span_recall,
// span_f1, span_exact_f1. It returns nil when the figure is undefined and
// an error when the name is unknown.
func (r *Report) Figure(name string) (*float64, error) {
	switch name {
	case "precision":
		return r.Overall.Precision, nil
	case "recall":
		return r.Overall.Recall, nil
	case "f1":
		return r.Overall.F1, nil
	case "fpr":
		return r.Overall.FPR, nil
	case "recall_at_1pct_fpr":
		return r.RecallAt1PctFPR, nil
	case "recall_at_5pct_fpr":
		return r.RecallAt5PctFPR, nil
	case "roc_auc":
		return r.ROCAUC, nil
	case "span_precision", "span_recall", "span_f1", "span_exact_f1":
		if r.Spans == nil {
			return nil, nil
		}
		m := r.Spans.Micro
		return map[string]*float64{
			"span_precision": m.Precision, "span_recall": m.Recall,
			"span_f1": m.F1, "span_exact_f1": m.ExactF1,
		}[name], nil
	}
	return nil, fmt.Errorf("unknown figure %q", name)
}

// groupFigure returns a group figure: precision, recall, f1 or fpr.
func groupFigure(s Scores, name string) (*float64, error) {
	switch name {
	case "precision":
		return s.Precision, nil
	case "recall":
		return s.Recall, nil
	case "f1":
		return s.F1, nil
	case "fpr":
		return s.FPR, nil
	}
	return nil, fmt.Errorf("unknown group figure %q (known: precision, recall, f1, fpr)", name)
}

// Groups returns the breakdown by field: "family", "lang" or "source".
func (r *Report) Groups(by string) ([]Group, error) {
	switch by {
	case "family":
		return r.ByFamily, nil
	case "lang":
		return r.ByLang, nil
	case "source":
		return r.BySource, nil
	}
	return nil, fmt.Errorf("unknown breakdown %q (known: family, lang, source)", by)
}

func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}
