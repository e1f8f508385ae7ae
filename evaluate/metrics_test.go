package evaluate

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func ptr(v float64) *float64 { return &v }

func eqp(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return near(*a, *b)
}

func TestCounts(t *testing.T) {
	tests := []struct {
		name                  string
		c                     Counts
		precision, recall, f1 *float64
		fpr                   *float64
	}{
		{"mixed", Counts{TP: 2, FP: 2, FN: 1, TN: 1}, ptr(0.5), ptr(2.0 / 3), ptr(4.0 / 7), ptr(2.0 / 3)},
		{"perfect", Counts{TP: 3, TN: 5}, ptr(1), ptr(1), ptr(1), ptr(0)},
		{"nothing flagged", Counts{FN: 2, TN: 3}, nil, ptr(0), ptr(0), ptr(0)},
		{"no positives", Counts{FP: 1, TN: 3}, ptr(0), nil, ptr(0), ptr(0.25)},
		{"no negatives", Counts{TP: 1, FN: 1}, ptr(1), ptr(0.5), ptr(2.0 / 3), nil},
		{"empty", Counts{}, nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Precision(); !eqp(got, tt.precision) {
				t.Errorf("precision = %v, want %v", fmtP(got), fmtP(tt.precision))
			}
			if got := tt.c.Recall(); !eqp(got, tt.recall) {
				t.Errorf("recall = %v, want %v", fmtP(got), fmtP(tt.recall))
			}
			if got := tt.c.F1(); !eqp(got, tt.f1) {
				t.Errorf("f1 = %v, want %v", fmtP(got), fmtP(tt.f1))
			}
			if got := tt.c.FPR(); !eqp(got, tt.fpr) {
				t.Errorf("fpr = %v, want %v", fmtP(got), fmtP(tt.fpr))
			}
		})
	}
}

func TestCountsAdd(t *testing.T) {
	var c Counts
	c.Add(true, true)
	c.Add(true, false)
	c.Add(false, true)
	c.Add(false, false)
	c.Add(false, false)
	if c != (Counts{TP: 1, FN: 1, FP: 1, TN: 2}) {
		t.Errorf("got %+v", c)
	}
}

func TestOr(t *testing.T) {
	if got := Or(nil, 1); got != 1 {
		t.Errorf("Or(nil, 1) = %v, want 1", got)
	}
	if got := Or(ptr(0.25), 1); got != 0.25 {
		t.Errorf("Or(0.25, 1) = %v, want 0.25", got)
	}
	// The undefined figures of an empty matrix.
	var c Counts
	if got := Or(c.Precision(), 0); got != 0 {
		t.Errorf("Or(empty precision, 0) = %v, want 0", got)
	}
}

func TestAUC(t *testing.T) {
	tests := []struct {
		name     string
		pos, neg []float64
		want     float64
		ok       bool
	}{
		// Pairs (hand-counted): 0.9 beats both; each 0.5 ties 0.5 (1/2)
		// and beats 0.1: (2 + 1.5 + 1.5) / 6.
		{"ties", []float64{0.9, 0.5, 0.5}, []float64{0.5, 0.1}, 5.0 / 6, true},
		{"perfect", []float64{0.8, 0.9}, []float64{0.1, 0.2, 0.3}, 1, true},
		{"inverted", []float64{0.1}, []float64{0.2, 0.3}, 0, true},
		{"all tied", []float64{0.5, 0.5}, []float64{0.5, 0.5, 0.5}, 0.5, true},
		{"constant zero scores", []float64{0, 0}, []float64{0}, 0.5, true},
		{"mixed", []float64{0.9, 0.4, 0.7}, []float64{0.6, 0.1, 0.5}, 7.0 / 9, true},
		{"no negatives", []float64{0.5}, nil, 0, false},
		{"no positives", nil, []float64{0.5}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AUC(tt.pos, tt.neg)
			if ok != tt.ok || (ok && !near(got, tt.want)) {
				t.Errorf("AUC = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRecallAtFPR(t *testing.T) {
	neg := []float64{0.9, 0.5, 0.5, 0.1, 0.1, 0, 0, 0, 0, 0}
	pos := []float64{0.95, 0.7, 0.5, 0.2}
	tests := []struct {
		name           string
		pos, neg       []float64
		target         float64
		recall, thresh float64
		ok             bool
	}{
		// One negative may be flagged: t must exceed the second-highest
		// negative (0.5); the smallest such score is 0.7.
		{"1 of 10", pos, neg, 0.1, 0.5, 0.7, true},
		// Two may be flagged, but 0.5 is shared by two negatives: flagging
		// it flags three (ties count as flagged), so t stays above 0.5.
		{"tie at the boundary", pos, neg, 0.2, 0.5, 0.7, true},
		{"3 of 10", pos, neg, 0.3, 1, 0.2, true},
		{"none", pos, neg, 0, 0.25, 0.95, true},
		{"all", pos, neg, 1, 1, 0, true},
		{"1% of 10 is none", pos, neg, 0.01, 0.25, 0.95, true},
		{"unreachable", []float64{0.3}, []float64{0.9}, 0, 0, math.Inf(1), true},
		{"no negatives", pos, nil, 0.01, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, th, ok := RecallAtFPR(tt.pos, tt.neg, tt.target)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if !near(r, tt.recall) || !(near(th, tt.thresh) || th == tt.thresh) {
				t.Errorf("RecallAtFPR = %v at %v; want %v at %v", r, th, tt.recall, tt.thresh)
			}
			// The promise itself: at th, at most target*N negatives flagged.
			fp := 0
			for _, s := range tt.neg {
				if s >= th {
					fp++
				}
			}
			if float64(fp) > tt.target*float64(len(tt.neg))+1e-9 {
				t.Errorf("threshold %v flags %d negatives", th, fp)
			}
		})
	}
	if len(neg) != 10 || neg[0] != 0.9 {
		t.Error("RecallAtFPR modified its input")
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, tt := range []struct{ p, want float64 }{{50, 5}, {99, 10}, {10, 1}, {100, 10}, {1, 1}} {
		if got := Percentile(xs, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestIoU(t *testing.T) {
	tests := []struct {
		a, b Span
		want float64
	}{
		{Span{Start: 0, End: 10}, Span{Start: 0, End: 10}, 1},
		{Span{Start: 0, End: 10}, Span{Start: 5, End: 15}, 5.0 / 15},
		{Span{Start: 0, End: 10}, Span{Start: 2, End: 8}, 0.6},
		{Span{Start: 0, End: 10}, Span{Start: 10, End: 20}, 0},
		{Span{Start: 3, End: 3}, Span{Start: 3, End: 3}, 0},
	}
	for _, tt := range tests {
		if got := IoU(tt.a, tt.b); !near(got, tt.want) {
			t.Errorf("IoU(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestMatchSpans(t *testing.T) {
	s := func(a, b int) Span { return Span{Start: a, End: b} }
	tests := []struct {
		name       string
		gold, pred []Span
		iou, exact int
	}{
		{"exact", []Span{s(0, 10)}, []Span{s(0, 10)}, 1, 1},
		{"iou 0.6 matches, not exact", []Span{s(0, 10)}, []Span{s(2, 8)}, 1, 0},
		{"iou 1/3 does not", []Span{s(0, 10)}, []Span{s(5, 15)}, 0, 0},
		{"iou exactly 0.5 matches", []Span{s(0, 10)}, []Span{s(0, 5)}, 1, 0},
		{"one to one", []Span{s(0, 10)}, []Span{s(0, 10), s(1, 10)}, 1, 1},
		// The better pair wins: pred 0 overlaps both golds, pred 1 only
		// gold 1; greedy by IoU pairs (g0,p0) 0.9 and (g1,p1) 1.
		{"best first", []Span{s(0, 10), s(20, 30)}, []Span{s(0, 9), s(20, 30)}, 2, 1},
		{"none", nil, []Span{s(0, 1)}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchSpans(tt.gold, tt.pred, MinIoU, false); got != tt.iou {
				t.Errorf("IoU matches = %d, want %d", got, tt.iou)
			}
			if got := MatchSpans(tt.gold, tt.pred, MinIoU, true); got != tt.exact {
				t.Errorf("exact matches = %d, want %d", got, tt.exact)
			}
		})
	}
}
