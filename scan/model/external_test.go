package model_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
)

// externalCase is a fixture of another scanner's test suite with its label.
type externalCase struct {
	path  string
	label string // malicious, benign or not-a-model
}

// externalCases lists picklescan's and modelscan's fixtures, kept in the
// testdata of the pickle and archive packages (MIT and Apache-2.0; see
// NOTICE), with their labels.
func externalCases(t *testing.T) []externalCase {
	t.Helper()
	base := filepath.Join("pickle", "testdata", "picklescan")
	f, err := os.Open(filepath.Join(base, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []externalCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row struct{ File, Label string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		out = append(out, externalCase{filepath.Join(base, filepath.FromSlash(row.File)), row.Label})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// The archive package's fixtures, labelled in its testdata/SOURCE.md.
	arch := filepath.Join("archive", "testdata")
	for _, c := range []externalCase{
		{"picklescan/malicious1.zip", "malicious"},
		{"picklescan/malicious1_0x1.zip", "malicious"},
		{"picklescan/malicious1_0x20.zip", "malicious"},
		{"picklescan/malicious1_0x40.zip", "malicious"},
		{"picklescan/malicious1_central_directory.zip", "malicious"},
		{"picklescan/malicious1_crc.zip", "malicious"},
		{"picklescan/malicious1_wrong_ext.zip", "malicious"},
		{"picklescan/new_pytorch_model.bin", "benign"},
		{"picklescan/int_arrays.npz", "benign"},
		{"picklescan/int_arrays_compressed.npz", "benign"},
		{"modelscan/unsafe_zip_pytorch.pt", "malicious"},
	} {
		out = append(out, externalCase{filepath.Join(arch, filepath.FromSlash(c.path)), c.label})
	}
	return out
}

// TestExternalFixtures scans the fixtures other scanners test themselves
// with: every malicious one must be reported high or critical and no benign
// one above low. Fixtures that are no model must not stop the scan.
func TestExternalFixtures(t *testing.T) {
	cases := externalCases(t)
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.label]++
		t.Run(c.path, func(t *testing.T) {
			rep, err := model.Scan(context.Background(), []string{c.path}, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			top, _ := rep.Max()
			switch {
			case c.label == "malicious" && top < finding.High:
				t.Errorf("malicious fixture reported at most %v:\n%s", top, describe(rep))
			case c.label == "benign" && top > finding.Low:
				t.Errorf("benign fixture reported %v:\n%s", top, describe(rep))
			}
		})
	}
	if counts["malicious"] < 90 || counts["benign"] < 8 {
		t.Errorf("fixture counts %v: the testdata is incomplete", counts)
	}
	t.Logf("fixtures: %v", counts)
}

// TestUninspectable: containers the scanner cannot open are reported as
// such (medium), never passed as clean.
func TestUninspectable(t *testing.T) {
	for _, c := range []struct{ path, rule string }{
		{"archive/testdata/picklescan/malicious1.7z", "model.archive.not-inspected"},
		{"archive/testdata/picklescan/benign_password_protected.zip", "model.archive.encrypted"},
		{"archive/testdata/modelscan/password_protected.zip", "model.archive.encrypted"},
	} {
		rep, err := model.Scan(context.Background(), []string{c.path}, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range rep.Findings {
			if f.RuleID == c.rule && f.Severity == finding.Medium {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no medium %s finding:\n%s", c.path, c.rule, describe(rep))
		}
	}
}
