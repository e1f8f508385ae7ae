// Package scan runs every static scanner on one repository or file —
// dependencies (scan/deps), secrets in files and, optionally, in the git
// history (scan/secrets), infrastructure code (scan/iac) and model files
// (scan/model) — and merges their findings into one list. It is
// `rampart scan PATH`.
package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/deps"
	"github.com/rampartsec/rampart/scan/iac"
	"github.com/rampartsec/rampart/scan/model"
	"github.com/rampartsec/rampart/scan/secrets"
)

// Options configure each scanner; their zero values are the scanners'
// defaults.
type Options struct {
	Deps    deps.Options
	Secrets secrets.Options
	IaC     iac.Options
	Model   model.Options
	// History also scans every commit of the git repository at the root
	// for secrets (secrets.ScanGit); the root must then be a work tree.
	History bool
}

// Result is what All found.
type Result struct {
	// Findings of every scanner, unsorted.
	Findings []finding.Finding
	// Deps is the dependency scan's result, with the packages read.
	Deps *deps.Result
}

// Rules lists every rule All can report.
func Rules() []finding.Rule {
	var out []finding.Rule
	out = append(out, deps.Rules()...)
	out = append(out, secrets.Rules()...)
	out = append(out, iac.Rules()...)
	out = append(out, model.Rules()...)
	return out
}

// All runs every static scanner on root, a folder or a single file. An
// error of any scanner stops the scan: a partial report would read as a
// clean one.
func All(ctx context.Context, root string, opts Options) (*Result, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	dr, err := deps.Scan(ctx, root, opts.Deps)
	if err != nil {
		return nil, fmt.Errorf("dependencies: %w", err)
	}
	res := &Result{Deps: dr, Findings: dr.Findings}
	sf, err := secrets.Scan(ctx, root, opts.Secrets)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	res.Findings = append(res.Findings, sf...)
	if opts.History {
		if !st.IsDir() {
			return nil, fmt.Errorf("git history: %s is not a folder", root)
		}
		hf, err := secrets.ScanGit(ctx, root, opts.Secrets)
		if err != nil {
			return nil, fmt.Errorf("git history: %w", err)
		}
		res.Findings = append(res.Findings, pastOnly(hf, sf)...)
	}
	if st.IsDir() {
		inf, err := iac.Scan(ctx, root, opts.IaC)
		if err != nil {
			return nil, fmt.Errorf("infrastructure code: %w", err)
		}
		res.Findings = append(res.Findings, inf...)
	}
	mo := opts.Model
	mo.FolderCodeOnly = true
	mr, err := model.Scan(ctx, []string{root}, mo)
	if err != nil {
		return nil, fmt.Errorf("model files: %w", err)
	}
	res.Findings = append(res.Findings, modelFindings(mr.Findings)...)
	if st.IsDir() {
		relative(res.Findings, root)
	}
	res.Findings = foldSecretLiterals(res.Findings)
	return res, nil
}

// relative makes the paths of findings under root relative to it, as the
// secrets and infrastructure scanners already write them, so that one
// report names every file the same way.
func relative(fs []finding.Finding, root string) {
	prefix := filepath.Clean(root) + string(filepath.Separator)
	for i := range fs {
		if p, ok := strings.CutPrefix(fs[i].Location.Path, prefix); ok && p != "" {
			fs[i].Location.Path = p
		}
	}
}

// pastOnly drops the history findings that the files scan reported
// already: a secret still in the tree was also added by some commit, and
// one report should name it once. A history finding is the same as a file
// finding when rule, path, line and (redacted) excerpt agree.
func pastOnly(history, files []finding.Finding) []finding.Finding {
	type key struct {
		rule, path, excerpt string
		line                int
	}
	now := make(map[key]bool, len(files))
	for _, f := range files {
		now[key{f.RuleID, f.Location.Path, f.Excerpt, f.Location.Line}] = true
	}
	out := history[:0]
	for _, f := range history {
		if !now[key{f.RuleID, f.Location.Path, f.Excerpt, f.Location.Line}] {
			out = append(out, f)
		}
	}
	return out
}

// foldSecretLiterals merges each infrastructure finding of a secret
// written in clear (iac.SecretRule) into the secrets scanner's finding on
// the same line of the same file, so that one leaked value is one entry
// in the report. The secrets finding stays (it names the kind of
// credential and carries the fingerprint baselines use); it takes the
// higher severity of the two, and its remediation gains the
// infrastructure rule's (rotate the credential, and move it to a secret
// store). An infrastructure finding with no secrets finding beside it
// stays as it is.
func foldSecretLiterals(fs []finding.Finding) []finding.Finding {
	type key struct {
		path string
		line int
	}
	secretAt := map[key]int{}
	for i, f := range fs {
		if f.Location.Commit == "" && f.Location.Line > 0 && strings.HasPrefix(f.RuleID, "secrets.") {
			if _, dup := secretAt[key{f.Location.Path, f.Location.Line}]; !dup {
				secretAt[key{f.Location.Path, f.Location.Line}] = i
			}
		}
	}
	if len(secretAt) == 0 {
		return fs
	}
	drop := make([]bool, len(fs))
	for i, f := range fs {
		j, ok := secretAt[key{f.Location.Path, f.Location.Line}]
		if !ok || !iac.SecretRule(f.RuleID) {
			continue
		}
		drop[i] = true
		s := &fs[j]
		s.Severity = max(s.Severity, f.Severity)
		s.Message = strings.TrimSpace(s.Message + " Also " + f.RuleID + ": " + f.Title + ".")
		if f.Remediation != "" {
			s.Remediation = strings.TrimSpace(s.Remediation + " " + f.Remediation)
		}
	}
	out := fs[:0]
	for i, f := range fs {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return out
}

// modelFindings drops the model scanner's notes on files that are not
// model files: in a whole repository most files are not, and saying so
// for each would bury the findings.
func modelFindings(fs []finding.Finding) []finding.Finding {
	out := fs[:0]
	for _, f := range fs {
		if f.RuleID == "model.scan.unrecognised" {
			continue
		}
		out = append(out, f)
	}
	return out
}
