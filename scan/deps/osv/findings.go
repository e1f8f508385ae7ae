package osv

import (
	"fmt"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// Detector is the Detector field of this package's findings.
const Detector = "deps-osv"

var family = finding.Family{
	Name:        "deps",
	Layer:       finding.LayerSupplyChain,
	Remediation: "Upgrade to a fixed version, or remove the package if it is malicious and rotate any credentials the environment that installed it could reach.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
		CWE:   []string{"CWE-1395"},
	},
}

var (
	// RuleVulnerable fires for a package version with a known vulnerability.
	RuleVulnerable = family.Rule("vulnerable", "Dependency with a known vulnerability", finding.High)
	// RuleMalicious fires for a package version reported as malicious.
	RuleMalicious = family.Rule("malicious", "Known-malicious package", finding.Critical)
)

func init() {
	RuleMalicious.References.CWE = []string{"CWE-506"}
	RuleMalicious.Remediation = "Remove the package, treat every machine that installed it as compromised, and rotate the credentials it could reach."
}

// Rules lists every rule this package emits.
func Rules() []finding.Rule { return []finding.Rule{*RuleVulnerable, *RuleMalicious} }

// Findings turns the records matching one package version into findings:
// deps.malicious (critical) for malicious-package reports, deps.vulnerable
// otherwise, with the severity of SeverityLevel. file and line locate the
// dependency's declaration (line 0 if unknown). The excerpt is
// name@version (name@commit, shortened, for a package pinned to a commit
// without a version); the message names the record, its aliases, its summary
// and the fixed versions.
func Findings(pkg PackageVersion, file string, line int, vulns []Vuln) []finding.Finding {
	out := make([]finding.Finding, 0, len(vulns))
	at := pkg.Version
	if at == "" && pkg.Commit != "" {
		at = pkg.Commit[:min(12, len(pkg.Commit))]
	}
	excerpt := pkg.Name + "@" + at
	for _, v := range vulns {
		if v.Vulnerability == nil {
			continue
		}
		var f finding.Finding
		ids := v.ID
		if len(v.Aliases) > 0 {
			ids += " (" + strings.Join(clipList(v.Aliases, 4), ", ") + ")"
		}
		if v.Malicious() {
			f = finding.New(RuleMalicious, finding.Location{Path: file, Line: line}, 1, excerpt)
			f.Message = fmt.Sprintf("%s %s is reported as malicious by %s", pkg.Ecosystem, excerpt, ids)
			if v.Summary != "" {
				f.Message += ": " + clipN(v.Summary, 160)
			}
		} else {
			f = finding.New(RuleVulnerable, finding.Location{Path: file, Line: line}, 0.95, excerpt)
			sev, score := v.SeverityLevel()
			f.Severity = sev
			f.Message = fmt.Sprintf("%s %s is affected by %s", pkg.Ecosystem, excerpt, ids)
			if score > 0 {
				f.Message += fmt.Sprintf(" [CVSS %.1f]", score)
			}
			if v.Summary != "" {
				f.Message += ": " + clipN(v.Summary, 160)
			}
			if len(v.Fixed) > 0 {
				f.Message += "; fixed in " + strings.Join(clipList(v.Fixed, 4), ", ")
			} else {
				f.Message += "; no fixed version known"
			}
		}
		f.Detector = Detector
		f.Fingerprint = "osv:" + pkg.Ecosystem + ":" + NormalizeName(pkg.Ecosystem, pkg.Name) + "@" + at + ":" + v.ID
		out = append(out, f)
	}
	return out
}

func clipList(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("+%d more", len(s)-n))
}
