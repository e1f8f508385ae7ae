// Package skops checks the schema of a skops file (skops.io, the
// persistence format scikit-learn's Hugging Face integration uses instead of
// pickle) without loading it.
//
// A .skops file is a ZIP archive whose schema.json describes every object
// as a node: {"__class__", "__module__", "__loader__", "content", …}.
// skops.io.load imports module.class for each node and builds the object
// (ObjectNode: cls.__new__ and __setstate__; ConstructorFromReduceNode:
// cls(*args); FunctionNode and TypeNode: the function or type itself;
// MethodNode: getattr(obj, name); OperatorFuncNode: operator.attrgetter,
// itemgetter or methodcaller; PartialNode: functools.partial). It refuses
// types outside its trusted set unless the caller trusts them, and callers
// commonly pass trusted=True or the list get_untrusted_types returns, so
// what the schema names decides what loading runs (CVE-2024-37065,
// CVE-2025-54412, CVE-2025-54413, CVE-2025-54886).
//
// Scan judges every name a schema holds with the pickle policy (package
// pickle: the same denylist, special-attribute rules and --allow-global
// entries): a dangerous type, function or method is critical; a name the
// policy does not know and skops does not trust by default (scikit-learn
// estimators, NumPy and SciPy types and ufuncs, Python's primitive and
// container types) is medium, as get_untrusted_types would list it.
package skops

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
	"github.com/rampartsec/rampart/scan/model/pickle"
)

// Detector is the name findings of this package carry in Finding.Detector.
const Detector = "model.skops"

var family = finding.Family{
	Name:        Detector,
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load this file with trusted types you have not reviewed; load it with skops.io.load(path, trusted=[...]) naming only the scikit-learn types you expect, or obtain the model from a trusted source.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010", "AML.T0011.000"},
		CWE:   []string{"CWE-502", "CWE-94"},
	},
}

// The rules of the package.
var (
	// RuleDangerous fires on a type, function or method the pickle policy
	// calls dangerous (os.system, builtins.eval, a path through
	// __globals__, operator.methodcaller, …).
	RuleDangerous = family.Rule("dangerous-type", "skops schema names a dangerous type, function or method (code runs when it is trusted)", finding.Critical)
	// RuleUntrusted fires on a name neither the pickle policy nor skops's
	// default trusted set covers: skops refuses it unless the caller
	// trusts it.
	RuleUntrusted = family.Rule("untrusted-type", "skops schema names a type or function outside skops's default trusted set", finding.Medium)
	// RuleMalformed fires on a schema skops could not load: a node
	// without its module or class, or nesting beyond the limit.
	RuleMalformed = family.Rule("malformed", "skops schema is damaged or could not be fully inspected", finding.Medium)
)

// Rules lists the package's rules.
func Rules() []finding.Rule { return modelfinding.Rules(RuleDangerous, RuleUntrusted, RuleMalformed) }

// maxDepth bounds the nesting walked; encoding/json allows 10,000 levels.
const maxDepth = 2000

// IsSchema reports whether a JSON document's top-level keys are those of a
// skops schema: a node (__loader__, __module__, __class__) with the
// format's protocol or version.
func IsSchema(top map[string]json.RawMessage) bool {
	_, loader := top["__loader__"]
	_, module := top["__module__"]
	_, proto := top["protocol"]
	_, version := top["_skops_version"]
	return loader && module && (proto || version)
}

// Scan checks the skops schema b (the content of schema.json) with the
// pickle policy plus the allowed entries (pickle.Options.Allow). Findings
// carry the node's JSON path as their field.
func Scan(b []byte, allow []string) []finding.Finding {
	var root any
	if err := json.Unmarshal(b, &root); err != nil {
		return []finding.Finding{modelfinding.At(RuleMalformed, Detector, 0, "", "", fmt.Sprintf("schema.json: %v", err))}
	}
	w := &walker{policy: pickle.NewPolicy(allow), seen: map[string]bool{}}
	w.walk(root, "$", 0)
	return w.out.Findings()
}

type walker struct {
	policy pickle.Policy
	out    modelfinding.Counter
	seen   map[string]bool // rule + name reported, so a name repeated in a forest is one finding
}

func (w *walker) walk(v any, path string, depth int) {
	if depth > maxDepth {
		w.add(RuleMalformed, path, "", fmt.Sprintf("nesting deeper than %d levels was not inspected", maxDepth))
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["__loader__"]; ok {
			w.node(v, path)
		}
		for k, c := range v {
			w.walk(c, path+"."+k, depth+1)
		}
	case []any:
		for i, c := range v {
			w.walk(c, fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	}
}

// node judges the names one node makes skops import or look up.
func (w *walker) node(n map[string]any, path string) {
	loader, _ := n["__loader__"].(string)
	module, _ := n["__module__"].(string)
	class, _ := n["__class__"].(string)
	if loader == "" || module == "" || class == "" {
		w.add(RuleMalformed, path, "", "node without a __loader__, __module__ or __class__ string: skops refuses the file")
		return
	}
	switch loader {
	case "JsonNode", "SliceNode":
		// JSON values and slices: skops builds them without an import.
		return
	case "MethodNode":
		// getattr(obj, func) on the object node in content.obj.
		content, _ := n["content"].(map[string]any)
		fn, _ := content["func"].(string)
		if fn == "" {
			w.add(RuleMalformed, path, module+"."+class, "MethodNode without a method name")
			return
		}
		w.judge(loader, module, class+"."+fn, path)
		return
	case "OperatorFuncNode":
		// operator.<class>(*attrs): attrgetter, itemgetter, methodcaller.
		// The pickle policy calls every operator gadget dangerous.
		w.judge(loader, "operator", class, path)
		if module != "operator" {
			w.add(RuleMalformed, path, module+"."+class, "OperatorFuncNode outside the operator module: skops refuses it")
		}
		return
	}
	w.judge(loader, module, class, path)
}

func (w *walker) judge(loader, module, name, path string) {
	full := module + "." + name
	switch v, why := w.policy.Judge(module, name); v {
	case pickle.Dangerous:
		w.add(RuleDangerous, path, full, fmt.Sprintf("%s names %s: %s; skops.io.load runs it once it is trusted (trusted=True, or the list get_untrusted_types returns)", loader, full, why))
	case pickle.Unknown:
		if !trustedByDefault(loader, module, name) {
			w.add(RuleUntrusted, path, full, fmt.Sprintf("%s names %s, which skops does not trust by default: loading needs it trusted; review what it runs first", loader, full))
		}
	}
}

func (w *walker) add(r *finding.Rule, path, excerpt, msg string) {
	k := r.ID + "\x00" + excerpt
	if excerpt != "" && w.seen[k] {
		return
	}
	w.seen[k] = true
	w.out.Add(modelfinding.At(r, Detector, 0, path, excerpt, msg))
}

// trustedByDefault approximates skops's default trusted set (skops.io
// _trusted_types and each node type's defaults): scikit-learn classes,
// NumPy and SciPy types and ufuncs, Python's primitive and container
// types, and the node types skops builds itself.
func trustedByDefault(loader, module, name string) bool {
	full := module + "." + name
	if builtinTypes[full] {
		return true
	}
	top, _, _ := strings.Cut(module, ".")
	last := name[strings.LastIndexByte(name, '.')+1:]
	class := last != "" && last[0] >= 'A' && last[0] <= 'Z'
	switch loader {
	case "FunctionNode":
		// skops trusts NumPy and SciPy ufuncs by default, nothing else.
		return top == "numpy" || module == "scipy.special" || strings.HasPrefix(module, "scipy.special.")
	case "PartialNode":
		return full == "functools.partial" // the wrapped function is a node of its own
	}
	switch top {
	case "numpy":
		return true
	case "scipy":
		return strings.HasPrefix(module, "scipy.sparse")
	case "sklearn":
		return class
	}
	return false
}

var builtinTypes = map[string]bool{
	"builtins.dict": true, "builtins.list": true, "builtins.set": true, "builtins.frozenset": true,
	"builtins.tuple": true, "builtins.int": true, "builtins.float": true, "builtins.complex": true,
	"builtins.str": true, "builtins.bool": true, "builtins.bytes": true, "builtins.bytearray": true,
	"builtins.slice": true, "builtins.NoneType": true, "builtins.type": true,
	"collections.OrderedDict": true, "collections.defaultdict": true, "functools.partial": true,
}
