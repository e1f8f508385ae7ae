// Package keras finds code execution in Keras model files without loading
// them: Lambda layers carrying marshalled Python bytecode, references to
// Python modules and callables outside Keras and TensorFlow (CVE-2025-1550),
// registered custom objects, and hostile HDF5 structures.
//
// ScanConfig walks a Keras model config (the config.json of a .keras zip,
// the model_config attribute of an .h5 file, or a keras_metadata.pb node) at
// every depth, so a Lambda or a module reference nested inside Sequential,
// Functional, TimeDistributed or Bidirectional wrappers, or hidden in an
// initializer, is found like a top-level one. ScanH5 reads the root
// attributes of an HDF5 file with a bounded reader of its own and passes
// model_config and training_config to ScanConfig.
package keras

import (
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Detector is the name findings of this package carry in Finding.Detector.
const Detector = "model.keras"

var family = finding.Family{
	Name:        Detector,
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load this model; rebuild it from trusted code without Lambda layers or custom objects, or load it with safe_mode in an isolated sandbox.",
	References: finding.References{
		OWASP: []string{"LLM03:2025", "LLM04:2025"},
		ATLAS: []string{"AML.T0010.003", "AML.T0011.000"},
		CWE:   []string{"CWE-502", "CWE-94"},
	},
}

// The rules of the package.
var (
	// RuleLambda fires on a Lambda layer whose function is marshalled Python
	// bytecode; Keras runs it when the model is loaded with safe_mode off.
	RuleLambda = family.Rule("lambda", "Lambda layer carries marshalled Python bytecode", finding.Critical)
	// RuleEmbeddedCode fires on marshalled Python bytecode anywhere else in a
	// config (a __lambda__ object, an initializer, an unknown key).
	RuleEmbeddedCode = family.Rule("embedded-code", "Marshalled Python code object embedded in the model config", finding.Critical)
	// RuleDangerousCallable fires on a module/class_name/function reference
	// to a module or callable that runs commands, code, or touches files or
	// the network (builtins.exec, os.system, keras.utils.get_file…).
	RuleDangerousCallable = family.Rule("dangerous-callable", "Config references a dangerous Python module or callable", finding.Critical)
	// RuleForeignModule fires on a module reference outside the Keras and
	// TensorFlow namespaces: loading imports it and calls into it.
	RuleForeignModule = family.Rule("foreign-module", "Config references a Python module outside Keras and TensorFlow", finding.High)
	// RuleCustomObject fires on a registered custom object: the model needs
	// code that is not in the file.
	RuleCustomObject = family.Rule("custom-object", "Config needs a registered custom object", finding.Medium)
	// RuleMalformed fires when the config is not valid JSON, too large or
	// too deeply nested to inspect fully.
	RuleMalformed = family.Rule("malformed-config", "Model config could not be fully inspected", finding.Medium)
	// RuleH5Malformed fires when an HDF5 file's structure is broken or
	// hostile (bad superblock, lengths past the end of the file, loops).
	RuleH5Malformed = family.Rule("h5-malformed", "HDF5 structure is malformed or hostile", finding.Medium)
)

// Rules lists every rule the package can emit.
func Rules() []finding.Rule {
	return []finding.Rule{*RuleLambda, *RuleEmbeddedCode, *RuleDangerousCallable, *RuleForeignModule, *RuleCustomObject, *RuleMalformed, *RuleH5Malformed}
}

func newFinding(r *finding.Rule, off int64, conf float64, excerpt, msg string) finding.Finding {
	f := finding.New(r, finding.Location{Offset: off}, conf, modelfinding.Clip(excerpt, 200))
	f.Message = msg
	f.Detector = Detector
	return f
}
