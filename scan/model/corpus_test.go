package model_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
	"github.com/rampartsec/rampart/scan/model/internal/corpus"
)

// TestCorpus scans the corpus the repository builds (scan/model/internal/
// corpus): every malicious case must be reported high or critical, and no
// benign one above low.
func TestCorpus(t *testing.T) {
	dir := t.TempDir()
	cases, err := corpus.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	var mal, ben int
	for _, c := range cases {
		if c.Malicious {
			mal++
		} else {
			ben++
		}
	}
	if mal < 30 || ben < 15 {
		t.Fatalf("corpus has %d malicious and %d benign cases; want at least 30 and 15", mal, ben)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(c.Name))
			rep, err := model.Scan(context.Background(), []string{path}, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			top, _ := rep.Max()
			switch {
			case c.Malicious && top < finding.High:
				t.Errorf("malicious case (%s) reported at most %v:\n%s", c.Covers, top, describe(rep))
			case !c.Malicious && top > finding.Low:
				t.Errorf("benign case (%s) reported %v:\n%s", c.Covers, top, describe(rep))
			}
		})
	}
}

func describe(rep *finding.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("  " + f.Severity.String() + " " + f.RuleID + " " + f.Location.String() + " " + f.Excerpt + " — " + f.Message + "\n")
	}
	return b.String()
}
