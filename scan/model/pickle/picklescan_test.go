package pickle_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/npy"
	"github.com/rampartsec/rampart/scan/model/pickle"
)

// label is one line of testdata/picklescan/labels.jsonl.
type label struct {
	File     string `json:"file"`
	Label    string `json:"label"`
	Expected []struct {
		Module string `json:"module"`
		Name   string `json:"name"`
		Safety string `json:"safety"`
	} `json:"expected_globals"`
}

func readLabels(t *testing.T) []label {
	t.Helper()
	f, err := os.Open("testdata/picklescan/labels.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ls []label
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	return ls
}

// scanFile scans a raw pickle stream, or the pickle inside a NumPy
// object array.
func scanFile(t *testing.T, path string) (*pickle.Result, []finding.Finding) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(string(data), npy.Magic) {
		h, fs, err := npy.Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if h == nil || !h.HasObject {
			return &pickle.Result{}, fs
		}
		res, err := pickle.Scan(bytes.NewReader(data[h.DataOffset:]), pickle.Options{Offset: h.DataOffset})
		if err != nil {
			t.Fatal(err)
		}
		return res, append(fs, res.Findings...)
	}
	res, err := pickle.Scan(bytes.NewReader(data), pickle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, res.Findings
}

func maxSev(fs []finding.Finding) (finding.Severity, bool) {
	r := finding.Report{Findings: fs}
	return r.Max()
}

// TestPicklescanFixtures runs the scanner over picklescan's test files
// (MIT, see testdata/picklescan/README.md): every malicious file must
// yield a finding of high severity or more, every benign one nothing
// above low. Containers (zip, 7z, npz) are left to the archive layer.
func TestPicklescanFixtures(t *testing.T) {
	var missed, fps []string
	nMal, nBen := 0, 0
	for _, l := range readLabels(t) {
		path := filepath.Join("testdata/picklescan", l.File)
		res, fs := scanFile(t, path)
		sev, any := maxSev(fs)
		var got []string
		for _, g := range res.Globals {
			got = append(got, g.String()+"="+g.Verdict.String())
		}
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.Severity.String()+":"+strings.TrimPrefix(f.RuleID, "model.")+"["+f.Excerpt+"]")
		}
		t.Logf("%-9s %-48s max=%-8v globals=%v findings=%v", l.Label, l.File, sevName(sev, any), got, ids)
		switch l.Label {
		case "malicious":
			nMal++
			if !any || sev < finding.High {
				missed = append(missed, l.File)
			}
		case "benign":
			nBen++
			if any && sev > finding.Low {
				fps = append(fps, l.File)
			}
		}
		// Compare with picklescan's globals.
		for _, e := range l.Expected {
			found := slices.ContainsFunc(res.Globals, func(g pickle.Global) bool {
				return pickle.Path(g.Module, g.Name) == pickle.Path(e.Module, e.Name)
			})
			if !found {
				t.Logf("    picklescan reports %s.%s (%s); Rampart resolved no such global", e.Module, e.Name, e.Safety)
			}
		}
	}
	t.Logf("malicious: %d/%d caught; benign: %d/%d clean", nMal-len(missed), nMal, nBen-len(fps), nBen)
	if len(missed) > 0 {
		t.Errorf("malicious files without a high or critical finding: %v", missed)
	}
	if len(fps) > 0 {
		t.Errorf("benign files with findings above low: %v", fps)
	}
}

func sevName(s finding.Severity, any bool) string {
	if !any {
		return "-"
	}
	return s.String()
}
