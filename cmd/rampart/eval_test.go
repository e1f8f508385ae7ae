package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

// evalData: at threshold 0.5 — TP 0.9, 0.7; FN 0.4; FP 0.6, 0.5; TN 0.1.
const evalData = `{"text":"s=0.9 a","label":"injection","family":"a","lang":"en"}
{"text":"s=0.4 b","label":"jailbreak","family":"a"}
{"text":"s=0.6 c","label":"benign","family":"b","lang":"en"}
{"text":"s=0.1 d","label":"benign","family":"b","source":"x"}
{"text":"s=0.5 e","label":"harmful","family":"b","lang":"de"}
{"text":"s=0.7 f","label":"injection","lang":"de","role":"document"}
`

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalTable(t *testing.T) {
	data := writeTemp(t, t.TempDir(), "dev.jsonl", evalData)
	out, code := run(t, newEvalCmd(testRegistry(t)), "", "--detector", "score", "--data", data, "--positive", "injection,jailbreak")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"positive      injection, jailbreak", "confusion     tp 2  fp 2  fn 1  tn 1",
		"precision     0.5000", "recall        0.6667", "f1            0.5714", "roc auc       0.7778",
		"recall@1%fpr  0.6667 (threshold 0.7000)", "by family", "by lang", "by source", "speed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestEvalJSON(t *testing.T) {
	data := writeTemp(t, t.TempDir(), "dev.jsonl", evalData)
	// "injection" is the score detector's name here only through
	// --positive; the defaults of an unknown type have no positive label.
	out, code := run(t, newEvalCmd(testRegistry(t)), "", "--detector", "score", "--data", data, "--format", "json", "--threshold", "0.65", "--repeat", "2")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var rep struct {
		Detector       string
		Threshold      float64
		PositiveLabels []string `json:"positive_labels"`
		Overall        struct{ N, Positives, TP, FP int }
		Speed          struct{ Items, Repeat int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Detector != "score" || rep.Threshold != 0.65 || len(rep.PositiveLabels) != 0 || rep.Overall.N != 6 ||
		rep.Overall.Positives != 0 || rep.Overall.FP != 2 || rep.Speed.Items != 6 || rep.Speed.Repeat != 2 {
		t.Errorf("report %+v", rep)
	}
}

func TestEvalSpansPII(t *testing.T) {
	// Code point offsets after a multi-byte prefix; PERSON is not mapped.
	data := writeTemp(t, t.TempDir(), "pii.jsonl",
		`{"text":"Grüße an Zoë: `+testEmail+`","label":"pii","entities":[{"type":"PERSON","start":9,"end":12},{"type":"EMAIL_ADDRESS","start":14,"end":37}]}
{"text":"nothing to see","label":"no-pii","entities":[]}
`)
	out, code := run(t, newEvalCmd(testRegistry(t)), "", "--detector", "pii", "--data", data)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"EMAIL  1     1     1.0000", "exact f1", "not evaluated: gold PERSON (1)", "tp 1  fp 0  fn 0  tn 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A custom type map that maps nothing the detector reports.
	tm := writeTemp(t, t.TempDir(), "map.yaml", "PERSON: PERSON\n")
	out, code = run(t, newEvalCmd(testRegistry(t)), "", "--detector", "pii", "--data", data, "--type-map", tm)
	if code != 0 || !strings.Contains(out, "gold EMAIL_ADDRESS (1)") || !strings.Contains(out, "predicted EMAIL (1)") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestEvalPredictions(t *testing.T) {
	dir := t.TempDir()
	data := writeTemp(t, dir, "dev.jsonl", evalData)
	// Produce predictions with check --jsonl, then read them back: the
	// figures must equal those of running the detector.
	checkOut, code := run(t, newCheckCmd(testRegistry(t)), evalData, "--detector", "score", "--jsonl")
	if code != 1 {
		t.Fatalf("check exit %d:\n%s", code, checkOut)
	}
	preds := writeTemp(t, dir, "preds.jsonl", checkOut)
	args := []string{"--detector", "score", "--data", data, "--positive", "injection,jailbreak", "--format", "json"}
	direct, code := run(t, newEvalCmd(testRegistry(t)), "", args...)
	if code != 0 {
		t.Fatal(direct)
	}
	viaPreds, code := run(t, newEvalCmd(testRegistry(t)), "", append(args, "--predictions", preds)...)
	if code != 0 {
		t.Fatal(viaPreds)
	}
	strip := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("%v:\n%s", err, s)
		}
		delete(m, "speed")
		delete(m, "mode")
		return m
	}
	a, b := strip(direct), strip(viaPreds)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("direct:\n%s\npredictions:\n%s", ja, jb)
	}
	// A predictions file one line short is an error naming the line.
	short := writeTemp(t, dir, "short.jsonl", strings.Join(strings.Split(checkOut, "\n")[:5], "\n"))
	out, code := run(t, newEvalCmd(testRegistry(t)), "", "--detector", "score", "--data", data, "--predictions", short)
	if code != 2 || !strings.Contains(out, "data: line 6 has no prediction") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestEvalErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeTemp(t, dir, "bad.jsonl", "{\"text\":\"s=0.1\"}\n{\"label\":\"x\"}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no data", []string{"--detector", "score"}, "--detector and --data are required"},
		{"missing file", []string{"--detector", "score", "--data", filepath.Join(dir, "none.jsonl")}, "no such file"},
		{"bad row", []string{"--detector", "score", "--data", bad}, `bad.jsonl: line 2: missing "text" field`},
		{"bad format", []string{"--detector", "score", "--data", bad, "--format", "xml"}, "--format"},
		{"bad repeat", []string{"--detector", "score", "--data", bad, "--repeat", "0"}, "--repeat"},
		{"unknown detector", []string{"--detector", "nope", "--data", bad}, "unknown detector type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := run(t, newEvalCmd(testRegistry(t)), "", tt.args...)
			if code != 2 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tt.want, out)
			}
		})
	}
}

func TestEvalFloors(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "dev.jsonl", evalData)
	pass := writeTemp(t, dir, "pass.yaml", `floors:
  - detector: score
    data: dev.jsonl
    positive: [injection, jailbreak]
    min: {precision: 0.5, recall: 0.6, roc_auc: 0.75}
`)
	fail := writeTemp(t, dir, "fail.yaml", `floors:
  - detector: score
    data: dev.jsonl
    positive: [injection, jailbreak]
    min: {f1: 0.9, recall_at_1pct_fpr: 0.5}
    groups:
      - {by: family, value: b, max: {fpr: 0.1}}
  - detector: injection
    data: dev.jsonl
    min: {f1: 0.5}
`)
	out, code := run(t, newEvalCmd(testRegistry(t)), "", "--floors", pass)
	if code != 0 || !strings.Contains(out, "ok   score on dev.jsonl: precision 0.5000, recall 0.6667, roc_auc 0.7778") {
		t.Errorf("pass: exit %d:\n%s", code, out)
	}
	out, code = run(t, newEvalCmd(testRegistry(t)), "", "--floors", fail)
	if code != 1 {
		t.Errorf("fail: exit %d", code)
	}
	for _, want := range []string{
		"FAIL score on dev.jsonl",
		"score on dev.jsonl: f1 = 0.5714, below its floor 0.9000",
		"score on dev.jsonl: family=b fpr = 0.6667, above its ceiling 0.1000",
		`FAIL injection on dev.jsonl`, `unknown detector type "injection"`,
		"error: 2 of 2 floors entries not met",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "recall_at_1pct_fpr =") {
		t.Errorf("recall_at_1pct_fpr (0.6667) reported below 0.5:\n%s", out)
	}
	// --detector picks entries; JSON output.
	out, code = run(t, newEvalCmd(testRegistry(t)), "", "--floors", fail, "--detector", "injection", "--format", "json")
	var res []struct {
		Detector   string
		OK         bool
		Violations []string
	}
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "]")+1]), &res); err != nil || code != 1 || len(res) != 1 || res[0].OK || res[0].Detector != "injection" {
		t.Errorf("json: exit %d, %v, %+v:\n%s", code, err, res, out)
	}
	if out, code := run(t, newEvalCmd(testRegistry(t)), "", "--floors", pass, "--threshold", "0.1"); code != 2 || !strings.Contains(out, "drop --threshold") {
		t.Errorf("--floors with --threshold: exit %d\n%s", code, out)
	}
	if out, code := run(t, newEvalCmd(testRegistry(t)), "", "--floors", pass, "--detector", "toxicity"); code != 2 {
		t.Errorf("no entry: exit %d\n%s", code, out)
	}
}

// TestFloors enforces detect/floors.yaml exactly as CI does: every entry is
// evaluated with the detectors this binary registers, and any figure below
// its floor, or an entry whose detector is not registered, fails.
func TestFloors(t *testing.T) {
	out, code := run(t, newEvalCmd(detect.Default), "", "--floors", filepath.Join("..", "..", "detect", "floors.yaml"))
	if code != 0 {
		t.Errorf("rampart eval --floors detect/floors.yaml: exit %d\n%s", code, out)
	}
	t.Logf("\n%s", out)
}
