package evaluate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// fmtP renders an optional figure with four decimals, "–" when undefined.
func fmtP(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.4f", *v)
}

// fmtMS renders milliseconds as a rounded duration, e.g. "1.2µs".
func fmtMS(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		d = d.Round(10 * time.Nanosecond)
	}
	return d.String()
}

// WriteText writes the report as readable tables.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	data := r.Data
	if data == "" {
		data = "-"
	}
	pos := strings.Join(r.PositiveLabels, ", ")
	if r.PositiveBySpans {
		pos = "rows with a gold span (any type)"
	}
	p("detector\t%s (%s)\n", r.Detector, r.Mode)
	p("data\t%s\n", data)
	p("positive\t%s\n", pos)
	p("threshold\t%.4f\n", r.Threshold)
	o := r.Overall
	p("rows\t%d (positives %d, negatives %d)\n", o.N, o.Positives, o.Negatives)
	p("confusion\ttp %d  fp %d  fn %d  tn %d\n", o.TP, o.FP, o.FN, o.TN)
	p("precision\t%s\n", fmtP(o.Precision))
	p("recall\t%s\n", fmtP(o.Recall))
	p("f1\t%s\n", fmtP(o.F1))
	p("fpr\t%s\n", fmtP(o.FPR))
	p("recall@1%%fpr\t%s (threshold %s)\n", fmtP(r.RecallAt1PctFPR), fmtP(r.ThresholdAt1PctFPR))
	p("recall@5%%fpr\t%s (threshold %s)\n", fmtP(r.RecallAt5PctFPR), fmtP(r.ThresholdAt5PctFPR))
	p("roc auc\t%s\n", fmtP(r.ROCAUC))
	if s := r.Speed; s != nil {
		p("speed\tp50 %s  p99 %s  %.2f MB/s  (%d items, %d bytes, repeat %d, timer overhead %s subtracted)\n",
			fmtMS(s.P50MS), fmtMS(s.P99MS), s.MBPerS, s.Items, s.Bytes, s.Repeat, fmtMS(s.TimerOverheadMS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, g := range []struct {
		name   string
		groups []Group
	}{{"family", r.ByFamily}, {"lang", r.ByLang}, {"source", r.BySource}} {
		if len(g.groups) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nby %s\n", g.name)
		p("%s\tn\tpos\tneg\tprecision\trecall\tf1\tfpr\n", strings.ToUpper(g.name))
		for _, x := range g.groups {
			p("%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", x.Value, x.N, x.Positives, x.Negatives,
				fmtP(x.Precision), fmtP(x.Recall), fmtP(x.F1), fmtP(x.FPR))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if s := r.Spans; s != nil {
		fmt.Fprintf(w, "\nspans (%q, %d rows; match: IoU >= %.2f, and exact boundaries)\n", s.Field, s.Rows, s.MinIoU)
		p("TYPE\tgold\tpred\tprecision\trecall\tf1\texact p\texact r\texact f1\n")
		for _, x := range append(s.Types, s.Micro) {
			p("%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Type, x.Gold, x.Predicted, fmtP(x.Precision), fmtP(x.Recall),
				fmtP(x.F1), fmtP(x.ExactPrecision), fmtP(x.ExactRecall), fmtP(x.ExactF1))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(s.NotEvaluated) > 0 {
			parts := make([]string, len(s.NotEvaluated))
			for i, n := range s.NotEvaluated {
				parts[i] = fmt.Sprintf("%s %s (%d)", n.Side, n.Type, n.Count)
			}
			fmt.Fprintf(w, "not evaluated: %s\n", strings.Join(parts, ", "))
		}
	}
	return nil
}
