package sign

import (
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/artifact/manifest"
	"github.com/rampartsec/rampart/finding"
)

// Detector is the detector name of the findings this package makes.
const Detector = "model-signature"

var family = finding.Family{
	Name:        "model.signature",
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load the model: restore it from a trusted copy and verify it again, or re-sign it after reviewing the change.",
	References: finding.References{
		OWASP: []string{"LLM03:2025", "LLM04:2025"},
		ATLAS: []string{"AML.T0010", "AML.T0018"},
		CWE:   []string{"CWE-345", "CWE-494"},
	},
}

// The rules Findings emits.
var (
	RuleInvalid  = family.Rule("invalid", "Model signature does not verify", finding.Critical)
	RuleModified = family.Rule("file-modified", "Signed model file was modified", finding.High)
	RuleAdded    = family.Rule("file-added", "Model file not covered by the signature", finding.High)
	RuleRemoved  = family.Rule("file-removed", "Signed model file is missing", finding.Medium)
)

// Rules lists every rule Findings can emit.
func Rules() []finding.Rule {
	return []finding.Rule{*RuleInvalid, *RuleModified, *RuleAdded, *RuleRemoved}
}

// Findings turns the outcome of Verify into findings: one for a signature
// that does not verify (err wrapping ErrSignature or ErrFormat), or one per
// changed file, whose name is the excerpt. Location.Path is left for the
// caller (the model path). Other errors make no finding.
func Findings(res *Result, err error) []finding.Finding {
	if err != nil {
		if !errors.Is(err, ErrSignature) && !errors.Is(err, ErrFormat) {
			return nil
		}
		f := finding.New(RuleInvalid, finding.Location{}, 1, "")
		f.Message = err.Error()
		f.Detector = Detector
		return []finding.Finding{f}
	}
	if res == nil {
		return nil
	}
	var out []finding.Finding
	for _, c := range res.Changes {
		var r *finding.Rule
		switch c.Kind {
		case manifest.Modified:
			r = RuleModified
		case manifest.Added:
			r = RuleAdded
		case manifest.Removed:
			r = RuleRemoved
		default:
			continue
		}
		f := finding.New(r, finding.Location{}, 1, c.Name)
		f.Message = fmt.Sprintf("%s since it was signed by %s", c, res.Signer)
		f.Detector = Detector
		out = append(out, f)
	}
	return out
}
