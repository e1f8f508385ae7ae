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
	"github.com/rampartsec/rampart/internal/pylex"
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
const MaxSource = pylex.MaxSource

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
	alias, tainted := pylex.Imports{}, map[string]bool{}
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
		for _, c := range pylex.Calls(f.toks, f.alias) {
			f.judge(c)
		}
		out = append(out, f.out...)
	}
	return out, nil
}

func check(path, field, src string) []finding.Finding {
	f := newFile(path, field, src, pylex.Imports{}, map[string]bool{})
	f.imports()
	f.taint()
	for _, c := range pylex.Calls(f.toks, f.alias) {
		f.judge(c)
	}
	return f.out
}

func newFile(path, field, src string, alias pylex.Imports, tainted map[string]bool) *file {
	return &file{path: path, field: field, src: src, toks: pylex.Lex(src), alias: alias, tainted: tainted}
}

type file struct {
	path, field, src string
	toks             []pylex.Token
	alias            pylex.Imports   // local name → qualified name
	tainted          map[string]bool // variables holding a downloaded file
	out              []finding.Finding
}

// imports records the names the file's import statements bind.
func (f *file) imports() {
	for _, l := range pylex.Lines(f.toks) {
		f.alias.Add(l)
	}
}

// taint marks variables assigned from a download call (x = hf_hub_download(...)),
// and those assigned from an expression that uses a tainted variable.
func (f *file) taint() {
	for range 2 { // a second round follows one step of x = f(y)
		for _, l := range pylex.Lines(f.toks) {
			if l[0].Kind == pylex.Name && l[0].Text == "with" {
				// with open(path) as fh: — fh is tainted when the expression is.
				start := 1
				for i := 1; i+1 < len(l); i++ {
					// i >= start: an "as" right after "as" is the previous
					// clause's target name, not a new clause.
					if i >= start && l[i].Kind == pylex.Name && l[i].Text == "as" && l[i+1].Kind == pylex.Name {
						if f.fromDownload(l[start:i]) {
							f.tainted[l[i+1].Text] = true
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
				if t.Kind == pylex.Name {
					f.tainted[t.Text] = true
				}
			}
		}
	}
}

// assignment returns the index of the "=" of a line assigning to one name
// or a tuple of names (a, b = … or (a, b) = …), or -1.
func assignment(l []pylex.Token) int {
	for i, t := range l {
		switch {
		case t.Kind == pylex.Name:
		case t.Kind == pylex.Op && (t.Text == "," || t.Text == "(" || t.Text == ")"):
		case t.Kind == pylex.Op && t.Text == "=" && i > 0 && (i+1 >= len(l) || l[i+1].Text != "="):
			return i
		default:
			return -1
		}
	}
	return -1
}

// fromDownload reports whether an expression calls a downloader or uses a
// tainted variable.
func (f *file) fromDownload(expr []pylex.Token) bool {
	for i, t := range expr {
		if t.Kind != pylex.Name {
			continue
		}
		if f.tainted[t.Text] && (i == 0 || expr[i-1].Text != ".") {
			return true
		}
		if downloaders[t.Text] && i+1 < len(expr) && expr[i+1].Text == "(" {
			return true
		}
	}
	return false
}

func (f *file) report(r *finding.Rule, c pylex.Call, excerpt, msg string) {
	col := c.Tok.Off - strings.LastIndexByte(f.src[:c.Tok.Off], '\n')
	fd := finding.New(r, finding.Location{Path: f.path, Line: c.Tok.Line, Column: col, Field: f.field}, 0.9, excerpt)
	fd.Message = msg
	fd.Detector = Detector
	f.out = append(f.out, fd)
}

func last(name string) string { return name[strings.LastIndexByte(name, '.')+1:] }

func (f *file) judge(c pylex.Call) {
	if v, ok := c.Kw["trust_remote_code"]; ok && pylex.Text(v) == "True" {
		f.report(RuleRemoteCode, c, c.Name+"(…, trust_remote_code=True)", "the model's own Python files run in this process")
	}
	switch fn := last(c.Callee); {
	case fn == "from_pretrained" || fn == "snapshot_download" || fn == "hf_hub_download" || c.Callee == "datasets.load_dataset":
		f.pinned(c)
	}
	switch {
	case c.Callee == "torch.load":
		switch v, ok := c.Kw["weights_only"]; {
		case !ok:
			f.report(RuleTorchLoad, c, c.Name+"(…)", "weights_only defaults to True only from PyTorch 2.6; pass weights_only=True")
		case pylex.Text(v) == "False":
			f.report(RuleTorchLoadFalse, c, c.Name+"(…, weights_only=False)", "the checkpoint's pickle may run any code when loaded")
		}
	case pickleLoaders[c.Callee]:
		if len(c.Pos) > 0 && f.fromDownload(c.Pos[0]) {
			f.report(RulePickleDownload, c, c.Name+"(…)", "the loaded file comes from a download in this file")
		} else {
			f.report(RulePickleLoad, c, c.Name+"(…)", "loading a pickle runs whatever it names; load only files you produced, or use a format that cannot run code")
		}
	case c.Callee == "numpy.load":
		if v, ok := c.Kw["allow_pickle"]; ok && pylex.Text(v) == "True" {
			f.report(RuleNumpyPickle, c, c.Name+"(…, allow_pickle=True)", "object arrays are pickles")
		}
	case c.Callee == "yaml.unsafe_load" || c.Callee == "yaml.unsafe_load_all":
		f.report(RuleYAMLLoad, c, c.Name+"(…)", "constructs arbitrary Python objects; use yaml.safe_load")
	case c.Callee == "yaml.load" || c.Callee == "yaml.load_all":
		loader, ok := c.Kw["Loader"]
		if !ok && len(c.Pos) >= 2 {
			loader, ok = c.Pos[1], true
		}
		if !ok {
			f.report(RuleYAMLNoLoader, c, c.Name+"(…)", "pass Loader=yaml.SafeLoader, or use yaml.safe_load")
			return
		}
		switch last(pylex.Text(loader)) {
		case "SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader":
		default:
			f.report(RuleYAMLLoad, c, c.Name+"(…, Loader="+last(pylex.Text(loader))+")", "only SafeLoader and BaseLoader refuse Python objects")
		}
	}
}

// pinned checks a hub download's revision: it must be a 40-hex commit.
func (f *file) pinned(c pylex.Call) {
	dataset := c.Callee == "datasets.load_dataset"
	local := func(id string) bool { return isLocal(id) || dataset && packagedBuilders[id] }
	if len(c.Pos) > 0 {
		if id, ok := pylex.Literal(c.Pos[0]); ok && local(id) {
			return
		}
	}
	for _, k := range []string{"pretrained_model_name_or_path", "repo_id", "path"} {
		if v, ok := c.Kw[k]; ok {
			if id, ok := pylex.Literal(v); ok && local(id) {
				return
			}
		}
	}
	v, ok := c.Kw["revision"]
	if !ok {
		f.report(RuleUnpinned, c, c.Name+"(…)", "no revision=: the hub serves whatever the repository's main branch holds at download time")
		return
	}
	if rev, ok := pylex.Literal(v); ok && !commitRE.MatchString(rev) {
		f.report(RuleUnpinned, c, c.Name+"(…, revision=\""+clip(rev, 40)+"\")", "revision names a branch or tag, which can move; pin a 40-hex commit")
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
