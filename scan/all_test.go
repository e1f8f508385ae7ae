package scan

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
)

func TestFoldSecretLiterals(t *testing.T) {
	at := func(rule string, sev finding.Severity, path string, line int, commit string) finding.Finding {
		return finding.Finding{RuleID: rule, Title: rule + " title", Severity: sev, Remediation: rule + " fix.",
			Location: finding.Location{Path: path, Line: line, Commit: commit}}
	}
	cases := []struct {
		name string
		in   []finding.Finding
		want []string // rule@path:line severity, in order
		// merged is the rule folded into the first finding's message.
		merged string
	}{
		{
			name: "same line folds into the secrets finding",
			in: []finding.Finding{
				at("iac.compose.secret-env-literal", finding.High, "docker-compose.yml", 7, ""),
				at("secrets.generic-assignment", finding.Medium, "docker-compose.yml", 7, ""),
			},
			want:   []string{"secrets.generic-assignment@docker-compose.yml:7 high"},
			merged: "iac.compose.secret-env-literal",
		},
		{
			name: "other line, other file and other rules stay",
			in: []finding.Finding{
				at("secrets.openai-api-key", finding.Critical, "deploy/app.yaml", 10, ""),
				at("iac.kube.secret-env-literal", finding.High, "deploy/app.yaml", 11, ""),
				at("iac.kube.secret-env-literal", finding.High, "deploy/other.yaml", 10, ""),
				at("iac.kube.privileged", finding.High, "deploy/app.yaml", 10, ""),
			},
			want: []string{
				"secrets.openai-api-key@deploy/app.yaml:10 critical",
				"iac.kube.secret-env-literal@deploy/app.yaml:11 high",
				"iac.kube.secret-env-literal@deploy/other.yaml:10 high",
				"iac.kube.privileged@deploy/app.yaml:10 high",
			},
		},
		{
			name: "a history finding does not absorb the current file's",
			in: []finding.Finding{
				at("secrets.generic-assignment", finding.Medium, "main.tf", 3, "abc123"),
				at("iac.terraform.secret-literal", finding.High, "main.tf", 3, ""),
			},
			want: []string{
				"secrets.generic-assignment@main.tf:3 medium",
				"iac.terraform.secret-literal@main.tf:3 high",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := foldSecretLiterals(c.in)
			var got []string
			for _, f := range out {
				got = append(got, f.RuleID+"@"+f.Location.Path+":"+strconv.Itoa(f.Location.Line)+" "+f.Severity.String())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
			if c.merged != "" {
				f := out[0]
				if !strings.Contains(f.Message, c.merged) || !strings.Contains(f.Remediation, c.merged+" fix.") {
					t.Errorf("merged finding: message %q, remediation %q; want both to name %s", f.Message, f.Remediation, c.merged)
				}
			}
		})
	}
}

// TestPythonFileTarget: the combined scan of a single .py file does not
// run the model scanner's shipped-code analysis on it (the project's own
// code), while `scan model` on the same file does.
func TestPythonFileTarget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deploy.py")
	if err := os.WriteFile(path, []byte("import subprocess\nsubprocess.run(['kubectl', 'apply', '-f', 'k8s/'])\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := All(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if strings.HasPrefix(f.RuleID, "model.code.") {
			t.Errorf("combined scan of a .py file: %s %s", f.RuleID, f.Message)
		}
	}
	rep, err := model.Scan(context.Background(), []string{path}, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || strings.HasPrefix(f.RuleID, "model.code.")
	}
	if !found {
		t.Errorf("scan model of a .py file given directly reports no model.code finding: %+v", rep.Findings)
	}
}
