// Package pyload finds unsafe model loading in Python code and notebooks:
// Hugging Face downloads not pinned to a commit, trust_remote_code=True,
// torch.load without weights_only=True, pickle-family loads (worse when
// what they load was just downloaded), numpy.load with allow_pickle=True
// and yaml.load with an unsafe or missing Loader.
//
// It reads tokens, not text: calls are found with their arguments split at
// the top level, keyword arguments are told from comparisons, strings and
// comments never match, and names imported under another name (import
// torch as th; from yaml import load) are resolved through the file's
// imports.
package pyload

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

var family = finding.Family{
	Name:        "deps.code",
	Layer:       finding.LayerSupplyChain,
	Remediation: "Load models in a form that cannot run code (safetensors, weights_only=True, a safe YAML loader) and pin downloads to a commit.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		CWE:   []string{"CWE-502"},
	},
}

// The rules Check reports.
var (
	RuleUnpinned       = family.Rule("unpinned-download", "Model or dataset downloaded from a hub without revision= pinned to a commit", finding.Medium)
	RuleRemoteCode     = family.Rule("trust-remote-code", "trust_remote_code=True runs Python code shipped with the model", finding.High)
	RuleTorchLoad      = family.Rule("torch-load", "torch.load without weights_only=True unpickles arbitrary objects", finding.Medium)
	RuleTorchLoadFalse = family.Rule("torch-load-unsafe", "torch.load with weights_only=False unpickles arbitrary objects", finding.High)
	RulePickleLoad     = family.Rule("pickle-load", "Pickle-family load (pickle, dill, cloudpickle, joblib, pandas.read_pickle) runs code in what it loads", finding.Medium)
	RulePickleDownload = family.Rule("pickle-load-downloaded", "Pickle-family load of a file that was just downloaded", finding.High)
	RuleNumpyPickle    = family.Rule("numpy-allow-pickle", "numpy.load with allow_pickle=True unpickles object arrays", finding.High)
	RuleYAMLLoad       = family.Rule("yaml-unsafe-load", "yaml.load with an unsafe Loader (or unsafe_load) constructs arbitrary Python objects", finding.High)
	RuleYAMLNoLoader   = family.Rule("yaml-load-no-loader", "yaml.load without Loader= (unsafe before PyYAML 5.1, an error since 6.0)", finding.Medium)
)

// Rules lists the rules Check can report.
func Rules() []*finding.Rule {
	return []*finding.Rule{RuleUnpinned, RuleRemoteCode, RuleTorchLoad, RuleTorchLoadFalse, RulePickleLoad,
		RulePickleDownload, RuleNumpyPickle, RuleYAMLLoad, RuleYAMLNoLoader}
}

// Detector names the analyser in findings.
const Detector = "deps.code"

// MaxSource is the largest source Check reads; larger files are ignored.
const MaxSource = 16 << 20

// call is one call expression: its callee resolved through the imports,
// and its arguments.
type call struct {
	callee string // e.g. "torch.load", "transformers.AutoModel.from_pretrained"
	name   string // the callee as written, e.g. "th.load"
	tok    token  // the callee's first token
	pos    [][]token
	kw     map[string][]token
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// downloaders are callables (by their last name) whose result is a file
// fetched from elsewhere.
var downloaders = map[string]bool{
	"hf_hub_download": true, "snapshot_download": true, "cached_download": true, "urlretrieve": true,
	"urlopen": true, "download_url": true, "download_url_to_file": true, "get_file": true,
	"download": true, "wget": true, "gdown": true,
}

// pickleLoaders are pickle-family loaders by resolved name.
var pickleLoaders = map[string]bool{
	"pickle.load": true, "pickle.loads": true, "_pickle.load": true, "_pickle.loads": true,
	"cPickle.load": true, "cPickle.loads": true, "dill.load": true, "dill.loads": true,
	"cloudpickle.load": true, "cloudpickle.loads": true, "joblib.load": true,
	"pandas.read_pickle": true, "sklearn.externals.joblib.load": true,
}

// Check reports unsafe model loading in Python source. path goes into the
// findings' locations.
func Check(path string, src []byte) []finding.Finding {
	if len(src) > MaxSource {
		return nil
	}
	return check(path, "", string(src))
}

// CheckNotebook reports unsafe model loading in the code cells of a
// Jupyter notebook; findings name the cell in Location.Field. IPython
// magics and shell lines (% and !) are skipped.
func CheckNotebook(path string, data []byte) ([]finding.Finding, error) {
	if len(data) > MaxSource {
		return nil, nil
	}
	var nb struct {
		Cells []struct {
			Type   string          `json:"cell_type"`
			Source json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("notebook %s: %w", path, err)
	}
	// The cells run in one namespace: an import or a download in one cell
	// is seen by the cells after it.
	alias, tainted := map[string]string{}, map[string]bool{}
	var files []*file
	for i, c := range nb.Cells {
		if c.Type != "code" {
			continue
		}
		var src string
		var lines []string
		if json.Unmarshal(c.Source, &lines) == nil {
			src = strings.Join(lines, "")
		} else if json.Unmarshal(c.Source, &src) != nil {
			continue
		}
		var b strings.Builder
		for line := range strings.Lines(src) {
			if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
				b.WriteString("\n")
				continue
			}
			b.WriteString(line)
		}
		f := newFile(path, fmt.Sprintf("cells[%d]", i), b.String(), alias, tainted)
		f.imports()
		f.taint()
		files = append(files, f)
	}
	var out []finding.Finding
	for _, f := range files {
		for _, c := range f.calls() {
			f.judge(c)
		}
		out = append(out, f.out...)
	}
	return out, nil
}

func check(path, field, src string) []finding.Finding {
	f := newFile(path, field, src, map[string]string{}, map[string]bool{})
	f.imports()
	f.taint()
	for _, c := range f.calls() {
		f.judge(c)
	}
	return f.out
}

func newFile(path, field, src string, alias map[string]string, tainted map[string]bool) *file {
	return &file{path: path, field: field, src: src, toks: lex(src), alias: alias, tainted: tainted}
}

type file struct {
	path, field, src string
	toks             []token
	alias            map[string]string // local name → qualified name
	tainted          map[string]bool   // variables holding a downloaded file
	out              []finding.Finding
}

// lines returns the logical lines as token ranges.
func (f *file) lines() [][]token {
	var out [][]token
	start := 0
	for i, t := range f.toks {
		if t.kind == tNewline {
			if i > start {
				out = append(out, f.toks[start:i])
			}
			start = i + 1
		}
	}
	if start < len(f.toks) {
		out = append(out, f.toks[start:])
	}
	return out
}

// dotted reads NAME(.NAME)* from toks[i:], returning the name and the
// index after it.
func dotted(toks []token, i int) (string, int) {
	if i >= len(toks) || toks[i].kind != tName {
		return "", i
	}
	var b strings.Builder
	b.WriteString(toks[i].text)
	i++
	for i+1 < len(toks) && toks[i].kind == tOp && toks[i].text == "." && toks[i+1].kind == tName {
		b.WriteString("." + toks[i+1].text)
		i += 2
	}
	return b.String(), i
}

// imports records the names the file's import statements bind.
func (f *file) imports() {
	for _, l := range f.lines() {
		switch {
		case l[0].kind == tName && l[0].text == "import":
			for i := 1; i < len(l); {
				mod, j := dotted(l, i)
				if mod == "" {
					break
				}
				local := strings.SplitN(mod, ".", 2)[0]
				target := local
				if j+1 < len(l) && l[j].text == "as" && l[j+1].kind == tName {
					local, target = l[j+1].text, mod
					j += 2
				}
				f.alias[local] = target
				if j < len(l) && l[j].text == "," {
					j++
				}
				i = j
			}
		case l[0].kind == tName && l[0].text == "from":
			mod, j := dotted(l, 1)
			if mod == "" || j >= len(l) || l[j].text != "import" {
				continue
			}
			for i := j + 1; i < len(l); i++ {
				t := l[i]
				if t.kind != tName {
					continue
				}
				local, target := t.text, mod+"."+t.text
				if i+2 < len(l) && l[i+1].text == "as" && l[i+2].kind == tName {
					local = l[i+2].text
					i += 2
				}
				f.alias[local] = target
			}
		}
	}
}

// resolve qualifies a dotted name through the imports.
func (f *file) resolve(name string) string {
	head, rest, _ := strings.Cut(name, ".")
	q, ok := f.alias[head]
	if !ok {
		return name
	}
	if rest == "" {
		return q
	}
	return q + "." + rest
}

// taint marks variables assigned from a download call (x = hf_hub_download(...)),
// and those assigned from an expression that uses a tainted variable.
func (f *file) taint() {
	for range 2 { // a second round follows one step of x = f(y)
		for _, l := range f.lines() {
			if l[0].kind == tName && l[0].text == "with" {
				// with open(path) as fh: — fh is tainted when the expression is.
				start := 1
				for i := 1; i+1 < len(l); i++ {
					if l[i].kind == tName && l[i].text == "as" && l[i+1].kind == tName {
						if f.fromDownload(l[start:i]) {
							f.tainted[l[i+1].text] = true
						}
						start = i + 2
					}
				}
				continue
			}
			// x = …, and the targets of a tuple assignment (path, _ = …).
			eq := assignment(l)
			if eq < 0 || !f.fromDownload(l[eq+1:]) {
				continue
			}
			for _, t := range l[:eq] {
				if t.kind == tName {
					f.tainted[t.text] = true
				}
			}
		}
	}
}

// assignment returns the index of the "=" of a line assigning to one name
// or a tuple of names (a, b = … or (a, b) = …), or -1.
func assignment(l []token) int {
	for i, t := range l {
		switch {
		case t.kind == tName:
		case t.kind == tOp && (t.text == "," || t.text == "(" || t.text == ")"):
		case t.kind == tOp && t.text == "=" && i > 0 && (i+1 >= len(l) || l[i+1].text != "="):
			return i
		default:
			return -1
		}
	}
	return -1
}

// fromDownload reports whether an expression calls a downloader or uses a
// tainted variable.
func (f *file) fromDownload(expr []token) bool {
	for i, t := range expr {
		if t.kind != tName {
			continue
		}
		if f.tainted[t.text] && (i == 0 || expr[i-1].text != ".") {
			return true
		}
		if downloaders[t.text] && i+1 < len(expr) && expr[i+1].text == "(" {
			return true
		}
	}
	return false
}

// calls finds every call expression.
func (f *file) calls() []call {
	var out []call
	toks := f.toks
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tName || i > 0 && (toks[i-1].text == "." || toks[i-1].text == "def" || toks[i-1].text == "class") {
			continue
		}
		name, j := dotted(toks, i)
		if j >= len(toks) || toks[j].kind != tOp || toks[j].text != "(" {
			continue
		}
		c := call{callee: f.resolve(name), name: name, tok: toks[i], kw: map[string][]token{}}
		depth, start := 0, j+1
		k := j
	args:
		for ; k < len(toks); k++ {
			switch t := toks[k]; {
			case t.kind == tOp && (t.text == "(" || t.text == "[" || t.text == "{"):
				depth++
			case t.kind == tOp && (t.text == ")" || t.text == "]" || t.text == "}"):
				depth--
				if depth == 0 {
					c.arg(toks[start:k])
					break args
				}
			case t.kind == tOp && t.text == "," && depth == 1:
				c.arg(toks[start:k])
				start = k + 1
			}
		}
		out = append(out, c)
	}
	return out
}

// arg records one argument: keyword (NAME = value, not ==) or positional.
func (c *call) arg(a []token) {
	if len(a) == 0 {
		return
	}
	if len(a) >= 2 && a[0].kind == tName && a[1].kind == tOp && a[1].text == "=" && (len(a) == 2 || a[2].text != "=") {
		c.kw[a[0].text] = a[2:]
		return
	}
	c.pos = append(c.pos, a)
}

func text(ts []token) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.text)
	}
	return b.String()
}

// literal returns the value of a plain string literal argument.
func literal(ts []token) (string, bool) {
	if len(ts) != 1 || ts[0].kind != tString {
		return "", false
	}
	s := ts[0].text
	s = strings.TrimLeft(s, "rRbBuU")
	if len(s) >= 2 {
		q := s[:1]
		if strings.HasPrefix(s, q+q+q) && len(s) >= 6 {
			return s[3 : len(s)-3], true
		}
		return s[1 : len(s)-1], true
	}
	return "", false
}

func (f *file) report(r *finding.Rule, c call, excerpt, msg string) {
	col := c.tok.off - strings.LastIndexByte(f.src[:c.tok.off], '\n')
	fd := finding.New(r, finding.Location{Path: f.path, Line: c.tok.line, Column: col, Field: f.field}, 0.9, excerpt)
	fd.Message = msg
	fd.Detector = Detector
	f.out = append(f.out, fd)
}

func last(name string) string { return name[strings.LastIndexByte(name, '.')+1:] }

func (f *file) judge(c call) {
	if v, ok := c.kw["trust_remote_code"]; ok && text(v) == "True" {
		f.report(RuleRemoteCode, c, c.name+"(…, trust_remote_code=True)", "the model's own Python files run in this process")
	}
	switch fn := last(c.callee); {
	case fn == "from_pretrained" || fn == "snapshot_download" || fn == "hf_hub_download" || c.callee == "datasets.load_dataset":
		f.pinned(c)
	}
	switch {
	case c.callee == "torch.load":
		switch v, ok := c.kw["weights_only"]; {
		case !ok:
			f.report(RuleTorchLoad, c, c.name+"(…)", "weights_only defaults to True only from PyTorch 2.6; pass weights_only=True")
		case text(v) == "False":
			f.report(RuleTorchLoadFalse, c, c.name+"(…, weights_only=False)", "the checkpoint's pickle may run any code when loaded")
		}
	case pickleLoaders[c.callee]:
		if len(c.pos) > 0 && f.fromDownload(c.pos[0]) {
			f.report(RulePickleDownload, c, c.name+"(…)", "the loaded file comes from a download in this file")
		} else {
			f.report(RulePickleLoad, c, c.name+"(…)", "loading a pickle runs whatever it names; load only files you produced, or use a format that cannot run code")
		}
	case c.callee == "numpy.load":
		if v, ok := c.kw["allow_pickle"]; ok && text(v) == "True" {
			f.report(RuleNumpyPickle, c, c.name+"(…, allow_pickle=True)", "object arrays are pickles")
		}
	case c.callee == "yaml.unsafe_load" || c.callee == "yaml.unsafe_load_all":
		f.report(RuleYAMLLoad, c, c.name+"(…)", "constructs arbitrary Python objects; use yaml.safe_load")
	case c.callee == "yaml.load" || c.callee == "yaml.load_all":
		loader, ok := c.kw["Loader"]
		if !ok && len(c.pos) >= 2 {
			loader, ok = c.pos[1], true
		}
		if !ok {
			f.report(RuleYAMLNoLoader, c, c.name+"(…)", "pass Loader=yaml.SafeLoader, or use yaml.safe_load")
			return
		}
		switch last(text(loader)) {
		case "SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader":
		default:
			f.report(RuleYAMLLoad, c, c.name+"(…, Loader="+last(text(loader))+")", "only SafeLoader and BaseLoader refuse Python objects")
		}
	}
}

// pinned checks a hub download's revision: it must be a 40-hex commit.
func (f *file) pinned(c call) {
	dataset := c.callee == "datasets.load_dataset"
	local := func(id string) bool { return isLocal(id) || dataset && packagedBuilders[id] }
	if len(c.pos) > 0 {
		if id, ok := literal(c.pos[0]); ok && local(id) {
			return
		}
	}
	for _, k := range []string{"pretrained_model_name_or_path", "repo_id", "path"} {
		if v, ok := c.kw[k]; ok {
			if id, ok := literal(v); ok && local(id) {
				return
			}
		}
	}
	v, ok := c.kw["revision"]
	if !ok {
		f.report(RuleUnpinned, c, c.name+"(…)", "no revision=: the hub serves whatever the repository's main branch holds at download time")
		return
	}
	if rev, ok := literal(v); ok && !commitRE.MatchString(rev) {
		f.report(RuleUnpinned, c, c.name+"(…, revision=\""+clip(rev, 40)+"\")", "revision names a branch or tag, which can move; pin a 40-hex commit")
	}
}

// packagedBuilders are the dataset builders that ship inside the datasets
// library: load_dataset("json", data_files=…) reads the files it is given
// and fetches no repository from the hub.
var packagedBuilders = map[string]bool{
	"arrow": true, "audiofolder": true, "cache": true, "csv": true, "generator": true,
	"imagefolder": true, "json": true, "pandas": true, "parquet": true, "spark": true,
	"sql": true, "text": true, "videofolder": true, "webdataset": true, "xml": true,
}

// isLocal reports a path that loads from disk, not from a hub.
func isLocal(id string) bool {
	return strings.HasPrefix(id, "./") || strings.HasPrefix(id, "../") || strings.HasPrefix(id, "/") ||
		strings.HasPrefix(id, "~") || id == "." || strings.Count(id, "/") > 1
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
