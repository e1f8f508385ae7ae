package pickle

import (
	"slices"

	"github.com/rampartsec/rampart/finding"
)

// Detector is the value Scan puts in Finding.Detector.
const Detector = "model.pickle"

var family = finding.Family{
	Name:        Detector,
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load this file with pickle, torch.load(weights_only=False), joblib or numpy.load(allow_pickle=True); obtain the model in a format without code (safetensors, GGUF, ONNX) or from a source you trust, and verify its signature.",
	References: finding.References{
		OWASP: []string{"LLM03:2025", "LLM04:2025"},
		ATLAS: []string{"AML.T0010", "AML.T0011.000"},
		CWE:   []string{"CWE-502"},
	},
}

// The rules Scan can emit.
var (
	// RuleDangerousGlobal: the pickle imports a global on the denylist.
	RuleDangerousGlobal = family.Rule("dangerous-global", "Pickle imports a dangerous global (code execution on load)", finding.Critical)
	// RuleUnresolvedGlobal: STACK_GLOBAL's module or name is not a constant
	// string, so the import cannot be known before loading.
	RuleUnresolvedGlobal = family.Rule("unresolved-global", "Pickle imports a global whose name is computed at load time", finding.Critical)
	// RuleBuildDunder: BUILD sets a special attribute (__setstate__,
	// __reduce__, __getattr__, …), which changes what later operations call.
	RuleBuildDunder = family.Rule("build-dunder", "Pickle BUILD sets a special attribute", finding.Critical)
	// RuleBuildOnGlobal: BUILD changes the state of an imported class,
	// function or module instead of a freshly made object.
	RuleBuildOnGlobal = family.Rule("build-on-global", "Pickle BUILD modifies an imported class, function or module", finding.High)
	// RuleIndirectCall: a call whose callable is not an imported global
	// (the result of another call, an attribute of an unknown object).
	RuleIndirectCall = family.Rule("indirect-call", "Pickle calls a computed callable", finding.High)
	// RuleExtension: EXT1/EXT2/EXT4 import through the copyreg extension
	// registry, which a static scan cannot resolve.
	RuleExtension = family.Rule("extension-registry", "Pickle imports through the copyreg extension registry", finding.High)
	// RuleCrossMemo: a pickle reads memo entries only an earlier pickle of
	// the stream stored (resolved by unpicklers reused across loads).
	RuleCrossMemo = family.Rule("cross-pickle-memo", "Pickle reads memo entries of the previous pickle", finding.High)
	// RuleLimit: a bound of Limits was reached; the rest of the stream was
	// not analysed.
	RuleLimit = family.Rule("limit-exceeded", "Pickle analysis stopped at a limit; the rest was not analysed", finding.High)
	// RuleUnknownGlobal: a global neither allowlisted nor denylisted.
	RuleUnknownGlobal = family.Rule("unknown-global", "Pickle imports a global outside the allowlist", finding.Medium)
	// RuleMalformed: the pickle is invalid or truncated; a loader raises at
	// that point, after running every operation before it.
	RuleMalformed = family.Rule("malformed", "Pickle is invalid or truncated", finding.Medium)
	// RuleUnsizedArray: a joblib array whose size cannot be determined;
	// the bytes after it were not analysed.
	RuleUnsizedArray = family.Rule("joblib-array", "joblib array data of unknown size; the rest of the stream was not analysed", finding.Medium)
	// RuleTrailing: bytes after the last complete pickle start like a
	// pickle but do not parse as one.
	RuleTrailing = family.Rule("trailing-data", "Bytes after the last pickle look like a broken pickle", finding.Low)
)

var allRules = []*finding.Rule{
	RuleDangerousGlobal, RuleUnresolvedGlobal, RuleBuildDunder, RuleBuildOnGlobal, RuleIndirectCall,
	RuleExtension, RuleCrossMemo, RuleLimit, RuleUnknownGlobal, RuleMalformed, RuleUnsizedArray, RuleTrailing,
}

// Rules returns every rule Scan can emit, in a fixed order.
func Rules() []*finding.Rule { return slices.Clone(allRules) }
