package model

import "github.com/rampartsec/rampart/finding"

// family holds the scanner's own rules: what it reports about files as a
// whole rather than about one format's content.
var family = finding.Family{
	Name:        "model.scan",
	Layer:       finding.LayerModelWeights,
	Remediation: "Inspect the file by hand or obtain the model from a trusted source in a format that cannot run code (safetensors, GGUF without a chat template that reaches Python internals).",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
		CWE:   []string{"CWE-502"},
	},
}

var (
	ruleNotInspected = family.Rule("not-inspected", "Container or compression format the scanner cannot open; its content was not inspected", finding.Medium)
	ruleUnreadable   = family.Rule("unreadable", "File could not be read to the end", finding.High)
	ruleUnrecognised = family.Rule("unrecognised", "File with a model file name whose content is no model format the scanner knows", finding.Low)
	ruleLimit        = family.Rule("limit", "A scan limit was reached (nesting depth, file count or bytes); the rest was not inspected", finding.Medium)
	ruleRemoteCode   = family.Rule("remote-code", "Model configuration maps model classes to Python code shipped with the model (loaded with trust_remote_code)", finding.Medium)
	ruleSymlink      = family.Rule("symlink-escape", "Symbolic link in a model folder points outside it", finding.Medium)
	ruleDisguised    = family.Rule("disguised-format", "File name claims a format that cannot run code, but the content is a pickle", finding.High)
)

// ownRules lists the driver's rules.
func ownRules() []*finding.Rule {
	return []*finding.Rule{ruleNotInspected, ruleUnreadable, ruleUnrecognised, ruleLimit, ruleRemoteCode, ruleSymlink, ruleDisguised}
}
