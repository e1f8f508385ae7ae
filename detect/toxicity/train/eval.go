package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/toxicity"
	metrics "github.com/rampartsec/rampart/evaluate"
)

// scored is a dev row with the detector's score.
type scored struct {
	r     row
	score float64
}

// evaluate scores the committed dev files with the embedded model (as the
// evaluation contract does: a text's score is the maximum over its hits)
// and prints the figures.
func evaluate(w io.Writer, dir string, opts map[string]any) error {
	d, err := toxicity.New(opts)
	if err != nil {
		return err
	}
	th := d.Threshold()
	for _, f := range []string{"dev.jsonl", "dev-stormfront.jsonl"} {
		rows, err := readJSONL(filepath.Join(dir, "testdata", f))
		if err != nil {
			return err
		}
		var all []scored
		for _, r := range rows {
			hs, err := d.Detect(context.Background(), detect.Input{Text: r.Text})
			if err != nil {
				return err
			}
			s := 0.0
			for _, h := range hs {
				s = max(s, h.Score)
			}
			all = append(all, scored{r, s})
		}
		fmt.Fprintf(w, "\n## %s (threshold %.2f, options %v)\n\n", f, th, opts)
		table(w, "all", all, func(scored) string { return "all" }, th)
		table(w, "source", all, func(s scored) string { return s.r.Source }, th)
		table(w, "lang", all, func(s scored) string { return s.r.Lang }, th)
		if f == "dev.jsonl" {
			table(w, "family (except hatecheck)", all, func(s scored) string {
				if s.r.Source == "hatecheck" {
					return ""
				}
				return s.r.Source + "/" + orDash(s.r.Family)
			}, th)
			accuracy(w, all, th)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func table(w io.Writer, by string, all []scored, key func(scored) string, th float64) {
	groups := map[string][]scored{}
	for _, s := range all {
		if k := key(s); k != "" {
			groups[k] = append(groups[k], s)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "| %s | n | toxic | precision | recall | F1 | FPR | ROC AUC | recall at 1%% FPR |\n|---|---|---|---|---|---|---|---|---|\n", by)
	for _, k := range keys {
		g := groups[k]
		var c metrics.Counts
		for _, s := range g {
			c.Add(s.r.Label == "toxic", s.score >= th)
		}
		f1 := "–"
		if c.TP > 0 {
			f1 = dash(c.F1())
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s | %s |\n", k, len(g), c.TP+c.FN, dash(c.Precision()), dash(c.Recall()), f1, dash(c.FPR()), auc(g), recallAtFPR(g, 0.01))
	}
	fmt.Fprintln(w)
}

// dash formats a figure, "–" when it is undefined.
func dash(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *v)
}

// auc is the ROC AUC (ties count half), "–" with one class only.
func auc(g []scored) string {
	var pos, neg []float64
	for _, s := range g {
		if s.r.Label == "toxic" {
			pos = append(pos, s.score)
		} else {
			neg = append(neg, s.score)
		}
	}
	v, ok := metrics.AUC(pos, neg)
	if !ok {
		return "–"
	}
	return dash(&v)
}

// accuracy prints HateCheck's accuracy per functionality.
func accuracy(w io.Writer, all []scored, th float64) {
	type acc struct{ ok, n int }
	m := map[string]*acc{}
	for _, s := range all {
		if s.r.Source != "hatecheck" {
			continue
		}
		a := m[s.r.Family]
		if a == nil {
			a = &acc{}
			m[s.r.Family] = a
		}
		a.n++
		if (s.score >= th) == (s.r.Label == "toxic") {
			a.ok++
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "| HateCheck functionality | n | accuracy |\n|---|---|---|\n")
	for _, k := range keys {
		fmt.Fprintf(w, "| %s | %d | %.3f |\n", k, m[k].n, float64(m[k].ok)/float64(m[k].n))
	}
	fmt.Fprintln(w)
}

func evalMain(dir, shared, mode string) error {
	var opts map[string]any
	switch strings.TrimSpace(mode) {
	case "benign":
		return evalBenign(os.Stdout, shared)
	case "full":
	case "lexicon":
		opts = map[string]any{"classifier": false}
	default:
		return fmt.Errorf("-eval %q: want full, lexicon or benign", mode)
	}
	return evaluate(os.Stdout, dir, opts)
}

// recallAtFPR is the recall at the lowest threshold whose false-positive
// rate is at most fpr ("–" with one class only).
func recallAtFPR(g []scored, fpr float64) string {
	s := slices.Clone(g)
	sort.SliceStable(s, func(i, j int) bool { return s[i].score > s[j].score })
	var pos, neg float64
	for _, x := range s {
		if x.r.Label == "toxic" {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return "–"
	}
	var tp, fp, best float64
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j].score == s[i].score {
			if s[j].r.Label == "toxic" {
				tp++
			} else {
				fp++
			}
			j++
		}
		if fp/neg > fpr {
			break
		}
		if s[i].score > 0 {
			best = tp / pos
		}
		i = j
	}
	return fmt.Sprintf("%.3f", best)
}

// benignSets are shared datasets of harmless prompts that training never
// sees (see benignTrain): the lexicon's false matches and the detector's
// false-positive rate are measured on them.
var benignSets = []string{"benign-xquad-questions", "benign-mtbench", "benign-wildguard", "xstest"}

// evalBenign reports, per source and language, the share of benign texts
// with a lexicon match, flagged by the full detector and flagged by the
// lexicon-only detector, and the most frequent matches.
func evalBenign(w io.Writer, shared string) error {
	full, err := toxicity.New(nil)
	if err != nil {
		return err
	}
	lex, err := toxicity.New(map[string]any{"classifier": false})
	if err != nil {
		return err
	}
	type agg struct{ n, matched, flagged, lexFlagged int }
	groups := map[string]*agg{}
	terms := map[string]int{}
	ctx := context.Background()
	for _, set := range benignSets {
		rows, err := readJSONL(filepath.Join(shared, set, "data.jsonl"))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Label != "benign" {
				continue
			}
			k := set + " / " + orDash(r.Lang)
			a := groups[k]
			if a == nil {
				a = &agg{}
				groups[k] = a
			}
			a.n++
			hs, err := lex.Detect(ctx, detect.Input{Text: r.Text})
			if err != nil {
				return err
			}
			ls := 0.0
			for _, h := range hs {
				ls = max(ls, h.Score)
				terms[h.Rule.ID+" "+strings.ToLower(r.Text[h.Start:h.End])]++
			}
			if len(hs) > 0 {
				a.matched++
			}
			if len(hs) > 0 && ls >= lex.Threshold() {
				a.lexFlagged++
			}
			fs := 0.0
			fh, err := full.Detect(ctx, detect.Input{Text: r.Text})
			if err != nil {
				return err
			}
			for _, h := range fh {
				fs = max(fs, h.Score)
			}
			if fs >= full.Threshold() {
				a.flagged++
			}
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "\n## Benign prompts (never trained on)\n\n| source / lang | n | with a lexicon match | flagged (full, %.2f) | flagged (lexicon only, %.2f) |\n|---|---|---|---|---|\n", full.Threshold(), lex.Threshold())
	for _, k := range keys {
		a := groups[k]
		fmt.Fprintf(w, "| %s | %d | %.4f | %.4f | %.4f |\n", k, a.n, float64(a.matched)/float64(a.n), float64(a.flagged)/float64(a.n), float64(a.lexFlagged)/float64(a.n))
	}
	tk := make([]string, 0, len(terms))
	for k := range terms {
		tk = append(tk, k)
	}
	slices.SortFunc(tk, func(a, b string) int {
		if terms[a] != terms[b] {
			return terms[b] - terms[a]
		}
		return strings.Compare(a, b)
	})
	fmt.Fprintf(w, "\nMost frequent lexicon matches in benign prompts:")
	for i, k := range tk {
		if i == 25 {
			break
		}
		fmt.Fprintf(w, " %s (%d);", k, terms[k])
	}
	fmt.Fprintln(w)
	return nil
}
