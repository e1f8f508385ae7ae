package pycode

import (
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

var family = finding.Family{
	Name:  "model.code",
	Layer: finding.LayerModelWeights,
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
	},
}

// rule makes a rule of the family with its own remediation and CWE.
func rule(id, title string, sev finding.Severity, remediation string, cwe ...string) *finding.Rule {
	r := family.Rule(id, title, sev)
	r.Remediation = remediation
	r.References.CWE = cwe
	return r
}

const dontTrust = "Do not load this model with trust_remote_code=True; "

// The rules Check reports.
var (
	RuleProcess = rule("process-exec", "Python code shipped with the model runs operating-system commands", finding.High,
		dontTrust+"read what the command does, and use a model whose code needs no shell.", "CWE-78")
	RuleDynamic = rule("dynamic-code", "Python code shipped with the model evaluates code or imports modules chosen at run time", finding.High,
		dontTrust+"find out what is evaluated; modeling code has no need for eval, exec or computed imports.", "CWE-95")
	RuleObfuscated = rule("obfuscated-exec", "Python code shipped with the model decodes a payload and runs it", finding.Critical,
		dontTrust+"treat the repository as malicious and report it to the hub.", "CWE-506")
	RuleEncodedBlob = rule("encoded-blob", "Long base64, hex or escaped-byte string literal in Python code shipped with the model", finding.Medium,
		"Decode the literal offline (never by running the file) and check what it holds before trusting the code.", "CWE-506")
	RuleNetwork = rule("network", "Python code shipped with the model opens network connections", finding.Medium,
		dontTrust+"modeling code should not talk to the network; if it also reads credentials, assume they are being sent away.", "CWE-200")
	RulePersistence = rule("persistence", "Python code shipped with the model writes shell startup files, cron, SSH keys or site-packages", finding.High,
		dontTrust+"treat the repository as malicious; check the named files on any machine that loaded it.", "CWE-912")
	RuleInstall = rule("runtime-install", "Python code shipped with the model installs packages at load time", finding.High,
		dontTrust+"install the dependencies it needs yourself, pinned and hashed.", "CWE-494")
	RuleNative = rule("native-code", "Python code shipped with the model loads native libraries", finding.Medium,
		"Check which library is loaded and where it comes from; native code runs outside any Python-level review.", "CWE-114")
	RuleDeserialize = rule("unsafe-deserialization", "Python code shipped with the model unpickles data", finding.Medium,
		"Check what is unpickled; prefer safetensors and torch.load(..., weights_only=True).", "CWE-502")
	RuleLimit = rule("limit", "Python file shipped with the model is too large to analyse in full", finding.Medium,
		"Inspect the file by hand: an oversized modeling file can hide code past the analysed part.")
)

var ruleByID = func() map[string]*finding.Rule {
	m := map[string]*finding.Rule{}
	for _, r := range []*finding.Rule{RuleProcess, RuleDynamic, RuleObfuscated, RuleEncodedBlob, RuleNetwork,
		RulePersistence, RuleInstall, RuleNative, RuleDeserialize, RuleLimit} {
		m[r.ID] = r
	}
	return m
}()

// Rules lists every rule Check can report.
func Rules() []finding.Rule {
	return modelfinding.Rules(RuleProcess, RuleDynamic, RuleObfuscated, RuleEncodedBlob, RuleNetwork,
		RulePersistence, RuleInstall, RuleNative, RuleDeserialize, RuleLimit)
}
