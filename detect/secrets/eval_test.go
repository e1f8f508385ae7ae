package secrets

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/evaluate"
)

var evalFile = flag.String("evalfile", "", "evaluate this JSONL file instead of testdata/dev.jsonl, and report errors")

// evalRow is one labelled text of testdata/*.jsonl (see internal/mkdev).
type evalRow struct {
	Text     string `json:"text"`
	Label    string `json:"label"`
	Family   string `json:"family"`
	Source   string `json:"source"`
	Upstream string `json:"upstream_rule"`
	// UpstreamLabel is the source's label where mkdev's placeholder
	// policy changed it.
	UpstreamLabel string `json:"upstream_label"`
}

func readRows(t *testing.T, path string) []evalRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []evalRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r evalRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// counts are a confusion matrix; an undefined ratio counts as 1 (nothing
// wrong).
type counts struct{ evaluate.Counts }

func (c counts) precision() float64 { return evaluate.Or(c.Precision(), 1) }
func (c counts) recall() float64    { return evaluate.Or(c.Recall(), 1) }
func (c counts) f1() float64        { return evaluate.Or(c.F1(), 1) }
func (c counts) String() string {
	return fmt.Sprintf("P %.3f R %.3f F1 %.3f (tp %d fp %d fn %d tn %d)", c.precision(), c.recall(), c.f1(), c.TP, c.FP, c.FN, c.TN)
}

// flagged scores a text as the evaluation contract does: the highest hit
// score against the detector's threshold.
func flagged(t *testing.T, d *Detector, text string) bool {
	hits, err := d.Detect(context.Background(), detect.Input{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	score, err := evaluate.ScoreOf(hits)
	if err != nil {
		t.Fatal(err)
	}
	return score >= d.Threshold()
}

// measureRows returns the confusion matrices per group ("rules", "shared",
// "negatives") and per family of the shared rows, logging every error when
// verbose.
func measureRows(t *testing.T, d *Detector, rows []evalRow, verbose bool) (map[string]*counts, map[string]*counts) {
	groups, fams := map[string]*counts{}, map[string]*counts{}
	get := func(m map[string]*counts, k string) *counts {
		if m[k] == nil {
			m[k] = &counts{}
		}
		return m[k]
	}
	for _, r := range rows {
		g := "shared"
		switch r.Source {
		case "rules":
			g = "rules"
		case "rampart-negatives":
			g = "negatives"
		}
		pos, got := r.Label == "secret", flagged(t, d, r.Text)
		if g == "shared" {
			// The same rows with the source's labels, placeholders included.
			get(groups, "shared-as-labelled").Add(pos || r.UpstreamLabel == "secret", got)
		}
		cs := []*counts{get(groups, g), get(groups, "all")}
		if g != "rules" {
			cs = append(cs, get(groups, "shared+negatives"))
		}
		if g == "shared" {
			cs = append(cs, get(fams, r.Family))
			if r.Family != "generic" && r.Family != "database" {
				// Provider formats, without the fuzzy families.
				cs = append(cs, get(groups, "shared-providers"))
			}
		}
		for _, c := range cs {
			c.Add(pos, got)
		}
		if verbose && pos != got {
			t.Logf("%s %s/%s %s: %.200q", map[bool]string{true: "FN", false: "FP"}[pos], r.Family, r.Upstream, r.Label, r.Text)
		}
	}
	return groups, fams
}

func logTable(t *testing.T, title string, m map[string]*counts) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-18s %v", k, *m[k])
	}
	t.Logf("%s:%s", title, b.String())
}

// TestDevSet measures the detector on testdata/dev.jsonl (built by
// internal/mkdev) and holds it to floors a little below the figures
// measured when the file was first built (docs/detectors/secrets.md):
// on the shared rows of the families it claims together with the realistic
// negatives, precision 0.95 and recall 0.78 (measured 0.958 and 0.800;
// the issue asks for 0.95 recall, which the generic, database and a few
// provider rows keep it from, see the docs); on the realistic negatives,
// no false positive; on the rules' own cases, everything right. Run with -v for the tables; with -evalfile to
// evaluate another file (such as testdata/tune.jsonl) and list its errors.
func TestDevSet(t *testing.T) {
	d := newDetector(t, nil)
	path, verbose := "testdata/dev.jsonl", false
	if *evalFile != "" {
		path, verbose = *evalFile, true
	}
	groups, fams := measureRows(t, d, readRows(t, path), verbose)
	// The dev figures are printed only when asked for (-v, or -evalfile):
	// a failing floor names the check, not the figures, so that nobody
	// reads the dev half by accident while changing rules.
	if testing.Verbose() || *evalFile != "" {
		logTable(t, path+" by source", groups)
		logTable(t, path+" shared rows by family", fams)
	}
	if *evalFile != "" {
		return
	}
	if c := groups["shared+negatives"]; c == nil || c.precision() < 0.95 || c.recall() < 0.78 {
		t.Error("shared rows and negatives are below the floor (precision 0.95, recall 0.78); go test -v -run TestDevSet measures them")
	}
	if c := groups["negatives"]; c == nil || c.FP > 0 {
		t.Error("a realistic negative is reported (want none); go test -v -run TestDevSet lists the figures")
	}
	if c := groups["rules"]; c == nil || c.precision() < 1 || c.recall() < 1 {
		t.Errorf("rules' own cases: %v, want all right (TestRuleCases)", c)
	}
}

// TestOutOfScope reports recall on the shared rows of families the
// detector does not claim (no floor: it is a measure of coverage).
func TestOutOfScope(t *testing.T) {
	groups, _ := measureRows(t, newDetector(t, nil), readRows(t, "testdata/out-of-scope.jsonl"), false)
	logTable(t, "out-of-scope rows", groups)
}
