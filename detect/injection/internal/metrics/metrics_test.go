package metrics

import "testing"

func TestMetrics(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1}
	labels := []bool{true, true, false, true, false, false, false, false}
	m := Measure(scores, labels, 0.5)
	if m.TP != 3 || m.FP != 1 || m.FN != 0 {
		t.Errorf("confusion = %d/%d/%d", m.TP, m.FP, m.FN)
	}
	// AUC: positives at ranks 8, 7, 5 of 8; U = (8+7+5) - 6 = 14; 14/15.
	if want := 14.0 / 15; m.AUC < want-1e-12 || m.AUC > want+1e-12 {
		t.Errorf("AUC = %v, want %v", m.AUC, want)
	}
	// At most 1% of 5 negatives: none flagged, threshold above 0.7.
	if m.ThresholdAt1FPR <= 0.7 || m.RecallAt1FPR != 2.0/3 {
		t.Errorf("threshold at 1%% FPR %v, recall %v", m.ThresholdAt1FPR, m.RecallAt1FPR)
	}
}
