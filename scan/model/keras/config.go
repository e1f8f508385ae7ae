package keras

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Limits on what ScanConfig reads. A config past them gets a RuleMalformed
// finding and is inspected as far as the limits allow.
const (
	// MaxConfigSize is the largest config ScanConfig reads, in bytes.
	MaxConfigSize = 64 << 20
	// MaxDepth is the deepest JSON nesting ScanConfig descends into.
	// Python's json module gives up near 1000 levels, so Keras cannot load
	// anything deeper either.
	MaxDepth = 1000
	// maxValues bounds the JSON values built from one config.
	maxValues = 1 << 20
	// maxFindings bounds the findings of one config.
	maxFindings = 1000
)

// ScanConfig inspects a Keras model config (JSON) and returns what it finds.
// Offsets in the findings are byte offsets into config.
func ScanConfig(config []byte) []finding.Finding {
	return scanConfig(config, 0)
}

// ScanConfigAt is ScanConfig for a config found at byte offset base of a
// larger file: the findings' offsets are shifted by base.
func ScanConfigAt(config []byte, base int64) []finding.Finding {
	return scanConfig(config, base)
}

func scanConfig(config []byte, base int64) []finding.Finding {
	w := &walker{base: base}
	if len(config) > MaxConfigSize {
		w.add(newFinding(RuleMalformed, base+MaxConfigSize, 1,
			fmt.Sprintf("config of %d bytes", len(config)),
			fmt.Sprintf("config is larger than the %d-byte limit; only the first %d bytes were inspected", MaxConfigSize, MaxConfigSize)))
		config = config[:MaxConfigSize]
	}
	root, at, err := parseJSON(config)
	if err != nil {
		what := "config is not valid JSON"
		switch {
		case errors.Is(err, errTooDeep):
			what = fmt.Sprintf("config nests deeper than %d levels", MaxDepth)
		case errors.Is(err, errTooMany):
			what = fmt.Sprintf("config holds more than %d values", maxValues)
		}
		w.add(newFinding(RuleMalformed, base+int64(at), 1, modelfinding.Clip(err.Error(), 120),
			fmt.Sprintf("%s (%v, near byte %d); it was inspected only up to there", what, err, at)))
	}
	if root != nil {
		w.walk(root, nil, 0, false)
	}
	return w.out
}

// walker visits every value of a config tree.
type walker struct {
	base    int64
	out     []finding.Finding
	dropped int
}

func (w *walker) add(f finding.Finding) {
	if len(w.out) >= maxFindings {
		w.dropped++
		return
	}
	w.out = append(w.out, f)
}

// jpath is the JSON path of a value, rendered only when a finding needs it
// (building every path as a string would cost depth × values bytes).
type jpath struct {
	parent *jpath
	key    string
	idx    int
	isIdx  bool
}

// maxPathParts bounds the path components a finding shows.
const maxPathParts = 12

// String renders the path like "$.config.layers[1]", keeping the last
// maxPathParts components.
func (p *jpath) String() string {
	var parts []string
	cut := false
	for q := p; q != nil; q = q.parent {
		if len(parts) == maxPathParts {
			cut = true
			break
		}
		if q.isIdx {
			parts = append(parts, fmt.Sprintf("[%d]", q.idx))
		} else {
			parts = append(parts, "."+modelfinding.Clip(q.key, 40))
		}
	}
	var b strings.Builder
	if cut {
		b.WriteString("$…")
	} else {
		b.WriteString("$")
	}
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}

// walk visits v at path; inLambda is set under a Lambda layer's config,
// where embedded code has already been reported as RuleLambda.
func (w *walker) walk(v *value, path *jpath, depth int, inLambda bool) {
	switch v.kind {
	case 'o':
		lambda := w.object(v, path, inLambda)
		for i, k := range v.keys {
			w.walk(v.vals[i], &jpath{parent: path, key: k}, depth+1, inLambda || lambda)
		}
	case 'a':
		for i, c := range v.vals {
			w.walk(c, &jpath{parent: path, idx: i, isIdx: true}, depth+1, inLambda)
		}
	case 's':
		if inLambda {
			return
		}
		if names, ok := marshalledCode(v.str); ok {
			w.add(newFinding(RuleEmbeddedCode, w.base+v.off, 0.95, path.String()+": "+codeSummary(names),
				"a string in the config decodes to a marshalled Python code object"+namesMessage(names)))
		}
	}
}

// object checks one JSON object that may describe a Keras object
// ({"module", "class_name", "config", "registered_name"}). It reports
// whether the object is a Lambda layer whose code it has reported.
func (w *walker) object(v *value, path *jpath, inLambda bool) bool {
	className := v.getStr("class_name")
	module := v.getStr("module")
	registered := v.getStr("registered_name")
	off := w.base + v.off
	cfg := v.get("config")

	fnRef := false
	for _, kind := range [...]string{"function", "output_shape", "mask"} {
		// A Lambda config names where its function came from in "module";
		// only a by-name function ("function_type": "function") is imported.
		fnRef = fnRef || v.get(kind+"_type") != nil
	}
	lambda := false
	switch {
	case className == "Lambda" || strings.HasSuffix(className, ">Lambda") || className == "__lambda__":
		// Inside a Lambda already reported (a Keras 3 Lambda holds a
		// __lambda__ object), report once.
		lambda = inLambda || w.lambda(v, cfg, path)
	case className == "function" || registered == "function":
		// Keras 3 serializes a plain function as
		// {"module": m, "class_name": "function", "config": name}.
		name := ""
		if cfg != nil && cfg.kind == 's' {
			name = cfg.str
		}
		w.reference(module, name, off, path)
	case !fnRef && (module != "" || className != ""):
		w.reference(module, className, off, path)
	}
	// Keras 2 Lambda config: {"function": ..., "function_type": "function",
	// "module": "os"} names a function by module and name.
	for _, kind := range [...]string{"function", "output_shape", "mask"} {
		if v.getStr(kind+"_type") == "function" {
			fn := v.get(kind)
			name := ""
			if fn != nil && fn.kind == 's' {
				name = fn.str
			}
			mod := module
			if m := v.getStr(kind + "_module"); m != "" {
				mod = m
			}
			w.reference(mod, name, off, &jpath{parent: path, key: kind})
		}
	}
	if registered != "" && registered != "function" && registered != className {
		pkg, _, ok := strings.Cut(registered, ">")
		if !ok || !knownPackage(pkg) {
			w.add(newFinding(RuleCustomObject, off, 0.8, path.String()+": "+registered,
				fmt.Sprintf("loading needs the custom object %q registered by code outside the model file", registered)))
		}
	} else if pkg, _, ok := strings.Cut(className, ">"); ok && !knownPackage(pkg) && registered == "" {
		w.add(newFinding(RuleCustomObject, off, 0.8, path.String()+": "+className,
			fmt.Sprintf("loading needs the custom object %q registered by code outside the model file", className)))
	}
	return lambda
}

// lambda reports a Lambda layer (or a Keras 3 __lambda__ object). It
// returns whether it found and reported embedded bytecode.
func (w *walker) lambda(v, cfg *value, path *jpath) bool {
	var names []string
	found := false
	var visit func(x *value, depth int)
	visit = func(x *value, depth int) {
		if x == nil || depth > MaxDepth {
			return
		}
		switch x.kind {
		case 's':
			if n, ok := marshalledCode(x.str); ok {
				found = true
				for _, s := range n {
					if !slices.Contains(names, s) {
						names = append(names, s)
					}
				}
			}
		case 'o', 'a':
			for _, c := range x.vals {
				visit(c, depth+1)
			}
		}
	}
	visit(cfg, 0)
	if cfg == nil {
		visit(v, 0)
	}
	if found {
		w.add(newFinding(RuleLambda, w.base+v.off, 1, path.String()+": "+codeSummary(names),
			"Lambda layer holds marshalled Python bytecode that runs when the model is loaded or called"+namesMessage(names)))
		return true
	}
	// A Lambda without readable bytecode still runs Python: either a named
	// function (reported by reference) or code we could not decode.
	if cfg.getStr("function_type") != "function" {
		w.add(newFinding(RuleLambda, w.base+v.off, 0.7, path.String()+": Lambda",
			"Lambda layer whose function could not be decoded; Lambda layers run arbitrary Python"))
	}
	return true
}

// reference checks a reference to module.name.
func (w *walker) reference(module, name string, off int64, path *jpath) {
	full := name
	if module != "" {
		full = module + "." + name
	}
	switch {
	case dangerousName(module, name):
		w.add(newFinding(RuleDangerousCallable, off, 0.95, path.String()+": "+full,
			fmt.Sprintf("config makes Keras import and call %q, which can run commands or code, or touch files or the network", full)))
	case module != "" && !knownModule(module):
		w.add(newFinding(RuleForeignModule, off, 0.85, path.String()+": "+full,
			fmt.Sprintf("config makes Keras import %q from outside the Keras and TensorFlow namespaces (CVE-2025-1550)", full)))
	}
}

// knownNamespaces are the top-level packages whose objects a Keras config
// may reference.
var knownNamespaces = []string{"keras", "tensorflow", "tf_keras", "keras_nlp", "keras_hub", "keras_cv", "keras_rs", "tf"}

func knownModule(module string) bool {
	top, _, _ := strings.Cut(module, ".")
	return slices.Contains(knownNamespaces, top)
}

func knownPackage(pkg string) bool {
	return slices.Contains(knownNamespaces, pkg) || pkg == "Keras" || pkg == "KerasNLP" || pkg == "KerasHub" || pkg == "KerasCV"
}

// dangerousModules are top-level Python modules whose callables run code,
// commands, or reach files, processes or the network.
var dangerousModules = map[string]bool{
	"builtins": true, "__builtin__": true, "__builtins__": true, "os": true, "posix": true, "nt": true,
	"subprocess": true, "sys": true, "shutil": true, "socket": true, "pty": true, "importlib": true,
	"runpy": true, "marshal": true, "pickle": true, "_pickle": true, "dill": true, "cloudpickle": true,
	"joblib": true, "ctypes": true, "code": true, "codeop": true, "commands": true, "webbrowser": true,
	"requests": true, "urllib": true, "urllib2": true, "urllib3": true, "httplib": true, "http": true,
	"httpx": true, "aiohttp": true, "ftplib": true, "telnetlib": true, "smtplib": true, "pip": true,
	"multiprocessing": true, "asyncio": true, "pydoc": true, "timeit": true, "cProfile": true,
	"profile": true, "pdb": true, "bdb": true, "trace": true, "functools": true, "operator": true,
	"types": true, "inspect": true, "io": true, "_io": true, "pathlib": true, "tempfile": true,
	"glob": true, "shelve": true, "zipimport": true, "signal": true, "threading": true, "_thread": true,
	"platform": true, "paramiko": true, "_posixsubprocess": true,
}

// dangerousCallables are names that are dangerous whatever module they come
// from, including inside the Keras and TensorFlow namespaces
// (keras.utils.get_file downloads and writes files; tf.io.write_file writes).
var dangerousCallables = map[string]bool{
	"exec": true, "eval": true, "compile": true, "__import__": true, "open": true, "system": true,
	"popen": true, "Popen": true, "execv": true, "execve": true, "execl": true, "spawnv": true,
	"check_output": true, "check_call": true, "getoutput": true, "getstatusoutput": true,
	"get_file": true, "write_file": true, "read_file": true, "py_function": true, "numpy_function": true,
	"py_func": true, "load_model": true, "import_module": true, "getattr": true, "setattr": true,
	"globals": true, "locals": true, "breakpoint": true, "input": true, "urlopen": true,
	"GFile": true, "rmtree": true, "remove": true, "unlink": true, "rename": true,
}

func dangerousName(module, name string) bool {
	top, _, _ := strings.Cut(module, ".")
	if dangerousModules[top] {
		return true
	}
	// The last dotted part of the name is what gets called.
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		if dangerousModules[strings.SplitN(name, ".", 2)[0]] {
			return true
		}
		name = name[i+1:]
	}
	if module == "" {
		// Keras 2 resolves a bare class_name among Keras objects only; a
		// bare "exec" is not importable, so only flag names with a module.
		return false
	}
	return dangerousCallables[name] || strings.Contains(module, "gfile") || strings.HasSuffix(module, "file_utils")
}

// marshalledCode reports whether s is base64 of a marshalled Python code
// object, and the names and constants readable in it.
func marshalledCode(s string) ([]string, bool) {
	if len(s) < 24 {
		return nil, false
	}
	// Quick reject: marshalled code begins with 'c' or 0xE3, which base64
	// encodes as "Y" or "4".
	t := strings.TrimLeft(s, " \t\r\n")
	if t == "" || (t[0] != 'Y' && t[0] != '4') {
		return nil, false
	}
	if len(t) > 16<<20 {
		t = t[:16<<20]
	}
	b, err := decodeBase64(t)
	if err != nil || !isCode(b) {
		return nil, false
	}
	return codeNames(b), true
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

func codeSummary(names []string) string {
	if len(names) == 0 {
		return "marshalled code"
	}
	return "code names: " + strings.Join(names, ", ")
}

func namesMessage(names []string) string {
	var bad []string
	for _, n := range names {
		if suspiciousCodeNames[n] {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "; it names " + strings.Join(bad, ", ")
}
