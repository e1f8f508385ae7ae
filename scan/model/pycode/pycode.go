// Package pycode analyses the Python files a model repository ships for
// trust_remote_code: modeling_*.py, configuration_*.py, tokenization_*.py
// and whatever else a config's auto_map names. Loading such a model runs
// these files, so a malicious repository hides its payload there.
//
// Check reads tokens (package internal/pylex), never runs anything, and
// reports process execution, dynamic code, decoded payloads that reach
// exec, eval, compile or marshal, long encoded literals, network access
// (worse next to credential reads), writes to shell startup files, cron,
// SSH keys and site-packages, package installs, native libraries and
// unpickling. Callees resolve through the file's imports (import
// subprocess as sp; sp.Popen is subprocess.Popen), through
// __import__("os"), importlib.import_module("os"), sys.modules["os"] and
// getattr(os, "system") with literal names, and values are followed
// through variables assigned in the same file.
package pycode

import (
	"slices"
	"sort"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/internal/pylex"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Detector names the analyser in findings.
const Detector = "model.code"

// MaxSource is the largest source Check analyses; a larger one is
// reported (RuleLimit) and not analysed. It is the limit of the
// dependency scanner's Python reader.
const MaxSource = pylex.MaxSource

// maxRounds bounds the passes that resolve reflective imports and follow
// values through variables.
const maxRounds = 4

// Check analyses the Python source of one file shipped with a model and
// returns its findings, at most modelfinding.MaxPerRule of each rule plus
// a summary. path goes into the findings' locations; the lines and
// columns are 1-based and Offset is the byte offset of the callee or
// literal.
func Check(path string, src []byte) []finding.Finding {
	a := &analysis{path: path, src: string(src)}
	if len(src) > MaxSource {
		a.at(RuleLimit, 0, 1, "", "larger than the analysis limit; not analysed", 1)
		return a.out.Findings()
	}
	a.run()
	return a.out.Findings()
}

// Value kinds followed through variables.
const (
	vDecoded   uint8 = 1 << iota // decoded or decompressed data
	vFetched                     // data read from the network
	vSensitive                   // a path to a startup file, cron, SSH keys or site-packages
	vShell                       // a command that downloads or hands a string to a shell
	nKinds     = 4
)

type analysis struct {
	path, src string
	nested    bool // analysing the literal given to exec, eval or compile
	toks      []pylex.Token
	imp       pylex.Imports
	calls     []pylex.Call
	lines     [][2]int // logical lines as token index ranges
	vars      map[varKey]uint8

	// Sorted token indices for range queries.
	decoders, fetches, sensitive, shell, pip, install []int
	refs                                              [nKinds][]int // references to variables, by value kind bit

	followed   bool            // vars are final and refs indexed
	scope      string          // while following: the function of the statement
	dotted     bool            // some variable has a dotted name (self.x)
	names      map[string]bool // the variables' names, or their first parts
	credential string          // what the file reads that looks like a credential
	lineStart  []int           // byte offset of each line, built on first use
	seen       map[string]bool
	out        modelfinding.Counter
}

func (a *analysis) run() {
	toks := pylex.Lex(a.src)
	if len(toks) >= pylex.MaxTokens {
		a.at(RuleLimit, toks[len(toks)-1].Off, toks[len(toks)-1].Line, "", "more tokens than the analysis limit; the rest of the file was not analysed", 1)
	}
	a.imp = pylex.Imports{}
	for _, l := range lineRanges(toks) {
		a.imp.Add(toks[l[0]:l[1]])
	}
	calls := pylex.Calls(toks, a.imp)
	a.reflection(calls)
	for range maxRounds {
		nt, changed := a.rewrite(toks, calls)
		if !changed {
			break
		}
		toks = nt
		calls = pylex.Calls(toks, a.imp)
		a.reflection(calls)
	}
	a.toks, a.calls = toks, calls
	a.lines = lineRanges(toks)
	a.index()
	a.follow()
	a.credentials()
	a.blobs()
	for i := range a.calls {
		a.judge(&a.calls[i])
	}
	a.persistence()
}

// lineRanges returns the statements of toks as [start, end) ranges:
// logical lines, split at semicolons.
func lineRanges(toks []pylex.Token) [][2]int {
	var out [][2]int
	start := 0
	for i, t := range toks {
		if t.Kind == pylex.Newline || t.Kind == pylex.Op && t.Text == ";" {
			if i > start {
				out = append(out, [2]int{start, i})
			}
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, [2]int{start, len(toks)})
	}
	return out
}

// head returns what the first part of a dotted name stands for: the
// import it names, or itself.
func (a *analysis) head(name string) string {
	if q, ok := a.imp[name]; ok {
		return q
	}
	return name
}

// normalize strips the builtins module from a callee: builtins.exec and
// __builtins__.exec are exec.
func normalize(callee string) string {
	for _, p := range []string{"builtins.", "__builtins__.", "__builtin__."} {
		if rest, ok := strings.CutPrefix(callee, p); ok && !strings.Contains(rest, ".") {
			return rest
		}
	}
	return callee
}

func isBuiltins(name string) bool {
	return name == "builtins" || name == "__builtins__" || name == "__builtin__"
}

// plain returns the value of an argument that is one string literal
// without replacement fields.
func plain(ts []pylex.Token) (string, bool) {
	if len(ts) == 1 && pylex.Interpolated(ts[0]) {
		return "", false
	}
	return pylex.Literal(ts)
}

// identifier reports a dotted Python identifier.
func identifier(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" || part[0] >= '0' && part[0] <= '9' {
			return false
		}
		for i := 0; i < len(part); i++ {
			if c := part[i]; !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// reflection reports getattr on the builtins module and imports of
// computed module names.
func (a *analysis) reflection(calls []pylex.Call) {
	for i := range calls {
		c := &calls[i]
		switch normalize(c.Callee) {
		case "getattr":
			if len(c.Pos) >= 1 {
				if name, j := pylex.Dotted(c.Pos[0], 0); j == len(c.Pos[0]) && isBuiltins(a.imp.Resolve(name)) {
					a.call(RuleDynamic, c, "reaches a builtin by name through getattr on the builtins module", 1)
				}
			}
		case "__import__", "importlib.import_module", "importlib.__import__":
			if len(c.Pos) >= 1 {
				if _, ok := plain(c.Pos[0]); !ok {
					a.call(RuleDynamic, c, "imports a module whose name is computed at run time", 0.8)
				}
			}
		}
	}
}

// rewrite replaces reflective references with literal names by the names
// they stand for: __import__("os") and importlib.import_module("os") by
// os, getattr(os, "system") by os.system, sys.modules["os"] by os. It
// reports whether anything changed.
func (a *analysis) rewrite(toks []pylex.Token, calls []pylex.Call) ([]pylex.Token, bool) {
	type span struct {
		start, end int // token range [start, end] replaced
		text       string
	}
	var spans []span
	aliased := false
	for _, c := range calls {
		if c.End >= len(toks) {
			continue
		}
		// name = __import__("os") on a line of its own binds an alias.
		alias := c.Start >= 2 && toks[c.Start-1].Text == "=" && toks[c.Start-2].Kind == pylex.Name &&
			(c.Start == 2 || toks[c.Start-3].Kind == pylex.Newline) &&
			(c.End+1 == len(toks) || toks[c.End+1].Kind == pylex.Newline)
		if !alias && (c.End+1 >= len(toks) || !used(toks[c.End+1])) {
			continue // not used as a module or function right away
		}
		var text string
		switch normalize(c.Callee) {
		case "__import__", "importlib.import_module":
			if len(c.Pos) >= 1 {
				if m, ok := plain(c.Pos[0]); ok && identifier(m) {
					text = m
				}
			}
		case "getattr":
			if len(c.Pos) >= 2 {
				name, j := pylex.Dotted(c.Pos[0], 0)
				if attr, ok := plain(c.Pos[1]); ok && name != "" && j == len(c.Pos[0]) && identifier(attr) {
					text = name + "." + attr
				}
			}
		}
		switch {
		case text == "":
		case alias:
			if name := toks[c.Start-2].Text; a.imp[name] != text {
				a.imp[name] = text
				aliased = true
			}
		default:
			spans = append(spans, span{c.Start, c.End, text})
		}
	}
	for i := 0; i < len(toks); i++ {
		if toks[i].Kind != pylex.Name || i > 0 && toks[i-1].Text == "." {
			continue
		}
		if h := a.head(toks[i].Text); h != "sys" && h != "sys.modules" {
			continue
		}
		name, j := pylex.Dotted(toks, i)
		if j+3 < len(toks) && toks[j].Text == "[" && toks[j+2].Text == "]" && used(toks[j+3]) && a.imp.Resolve(name) == "sys.modules" {
			if m, ok := plain(toks[j+1 : j+2]); ok && identifier(m) {
				spans = append(spans, span{i, j + 2, m})
			}
		}
		i = j - 1
	}
	if len(spans) == 0 {
		return toks, aliased
	}
	slices.SortFunc(spans, func(x, y span) int { return x.start - y.start })
	out := make([]pylex.Token, 0, len(toks))
	next := 0
	for _, s := range spans {
		if s.start < next {
			continue // inside a span already replaced
		}
		out = append(out, toks[next:s.start]...)
		t := toks[s.start]
		out = append(out, pylex.Token{Kind: pylex.Name, Text: s.text, Off: t.Off, Line: t.Line})
		next = s.end + 1
	}
	out = append(out, toks[next:]...)
	return out, true
}

// used reports the token after a reflective reference that uses it at
// once: an attribute or a call.
func used(t pylex.Token) bool { return t.Kind == pylex.Op && (t.Text == "." || t.Text == "(") }

// has reports whether the sorted indices idx hold one in [lo, hi).
func has(idx []int, lo, hi int) bool {
	i := sort.SearchInts(idx, lo)
	return i < len(idx) && idx[i] < hi
}

// index records where decoders, downloads, sensitive paths and telling
// literals are.
func (a *analysis) index() {
	for _, c := range a.calls {
		callee := normalize(c.Callee)
		if isDecoder(callee, c) {
			a.decoders = append(a.decoders, c.Start)
		}
		if isFetch(callee) {
			a.fetches = append(a.fetches, c.Start)
		}
	}
	prevShell := false
	for i, t := range a.toks {
		switch t.Kind {
		case pylex.String:
			v := strings.ToLower(pylex.Unquote(t.Text))
			if sensitivePath(v) {
				a.sensitive = append(a.sensitive, i)
			}
			if shellIndicator(v) || prevShell && v == "-c" {
				a.shell = append(a.shell, i)
			}
			if pipWord(v) {
				a.pip = append(a.pip, i)
			}
			if strings.Contains(v, "install") {
				a.install = append(a.install, i)
			}
			switch v {
			case "sh", "bash", "/bin/sh", "/bin/bash", "zsh", "dash", "cmd", "cmd.exe":
				prevShell = true
				continue
			}
			prevShell = false
		case pylex.Name:
			if i > 0 && a.toks[i-1].Text == "." {
				continue
			}
			if h, _, _ := strings.Cut(a.head(t.Text), "."); h == "site" || h == "sysconfig" || h == "distutils" {
				name, _ := pylex.Dotted(a.toks, i)
				if sitePackages[a.imp.Resolve(name)] {
					a.sensitive = append(a.sensitive, i)
				}
			}
			if t.Text == "pip" {
				a.pip = append(a.pip, i)
			}
		case pylex.Op:
			if t.Text != "," {
				prevShell = false
			}
		}
	}
}

// follow marks variables assigned from decoded, downloaded or sensitive
// values, following one more step of assignment in each round, and then
// indexes the references to them.
func (a *analysis) follow() {
	a.vars, a.names = map[varKey]uint8{}, map[string]bool{}
	scope, fn := a.scopes()
	type stmt struct {
		li int
		as []assignment
	}
	var stmts []stmt
	for li, l := range a.lines {
		if as := a.assignments(l, fn[li]); len(as) > 0 {
			stmts = append(stmts, stmt{li, as})
		}
	}
	for range maxRounds {
		changed := false
		for _, st := range stmts {
			a.scope = scope[st.li]
			for _, as := range st.as {
				k := a.kinds(as.lo, as.hi)
				if k == 0 {
					continue
				}
				for _, t := range as.targets {
					v := varKey{name: t}
					if !as.global {
						v = a.key(t)
					}
					if a.vars[v]|k != a.vars[v] {
						a.vars[v] |= k
						head, _, dotted := strings.Cut(v.name, ".")
						a.names[head] = true
						a.dotted = a.dotted || dotted
						changed = true
					}
				}
			}
		}
		if !changed {
			break
		}
	}
	a.followed = true
	if len(a.vars) == 0 {
		return
	}
	for li, l := range a.lines {
		a.scope = scope[li]
		for i := l[0]; i < l[1]; i++ {
			if t := a.toks[i]; t.Kind != pylex.Name || i > 0 && a.toks[i-1].Text == "." {
				continue
			}
			k := a.varKind(i)
			for b := range a.refs {
				if k&(1<<b) != 0 {
					a.refs[b] = append(a.refs[b], i)
				}
			}
		}
	}
}

// scopes returns for each statement the function it lies in, as an id
// unique in the file ("" at module level) and by name. A function's body
// is the statements after its def indented deeper than the def.
func (a *analysis) scopes() (ids, names []string) {
	ids, names = make([]string, len(a.lines)), make([]string, len(a.lines))
	type def struct {
		indent   int
		id, name string
	}
	var stack []def
	for li, l := range a.lines {
		t := a.toks[l[0]]
		indent := a.column(t.Off, t.Line)
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			ids[li], names[li] = stack[len(stack)-1].id, stack[len(stack)-1].name
		}
		if name := defined(a.toks[l[0]:l[1]]); name != "" && len(stack) < pylex.MaxNesting {
			stack = append(stack, def{indent, itoa(li) + ":" + name, name})
		}
	}
	return ids, names
}

// varKey names a variable: a plain name local to a function, or a
// global one (scope "").
type varKey struct{ scope, name string }

// key returns the key under which a variable assigned in the current
// scope is kept: a plain name inside a function is local to it; a dotted
// one (self.x) and one at module level are global.
func (a *analysis) key(name string) varKey {
	if a.scope == "" || strings.Contains(name, ".") {
		return varKey{name: name}
	}
	return varKey{a.scope, name}
}

// varKind returns the kinds of the variable named at toks[i] in the
// current scope: its dotted name (self.payload), its first part, local
// or global.
func (a *analysis) varKind(i int) uint8 {
	name := a.toks[i].Text
	if !a.names[name] {
		return 0
	}
	k := a.vars[varKey{name: name}]
	if a.scope != "" {
		k |= a.vars[varKey{a.scope, name}]
	}
	if a.dotted && i+2 < len(a.toks) && a.toks[i+1].Text == "." {
		dotted, _ := pylex.Dotted(a.toks, i)
		k |= a.vars[varKey{name: dotted}]
	}
	return k
}

// kinds returns the kinds of value the tokens [lo, hi) compute.
func (a *analysis) kinds(lo, hi int) uint8 {
	var k uint8
	if has(a.decoders, lo, hi) {
		k |= vDecoded
	}
	if has(a.fetches, lo, hi) {
		k |= vFetched
	}
	if has(a.sensitive, lo, hi) {
		k |= vSensitive
	}
	if has(a.shell, lo, hi) {
		k |= vShell
	}
	if a.followed {
		for b := range a.refs {
			if has(a.refs[b], lo, hi) {
				k |= 1 << b
			}
		}
		return k
	}
	// While following, variables are looked up directly.
	for i := lo; i < hi; i++ {
		if a.toks[i].Kind == pylex.Name && (i == 0 || a.toks[i-1].Text != ".") {
			k |= a.varKind(i)
		}
	}
	return k
}

// defined returns the name a def line defines, or "".
func defined(l []pylex.Token) string {
	if len(l) > 1 && l[0].Text == "async" {
		l = l[1:]
	}
	if len(l) > 1 && l[0].Kind == pylex.Name && l[0].Text == "def" && l[1].Kind == pylex.Name {
		return l[1].Text
	}
	return ""
}

type assignment struct {
	targets []string
	global  bool // the targets are global names (a function's return)
	lo, hi  int  // the value's tokens
}

// assignments returns what one logical line assigns: x = v, a, b = v,
// self.x = v, x += v, with v as w, for x in v, and return v to the
// function fn the line is in.
func (a *analysis) assignments(l [2]int, fn string) []assignment {
	toks := a.toks[l[0]:l[1]]
	if len(toks) == 0 {
		return nil
	}
	if toks[0].Kind == pylex.Name && toks[0].Text == "return" && fn != "" {
		// What a function returns flows into its calls: f(), self.f().
		return []assignment{{[]string{fn, "self." + fn, "cls." + fn}, true, l[0] + 1, l[1]}}
	}
	if toks[0].Kind == pylex.Name && (toks[0].Text == "with" || toks[0].Text == "async" && len(toks) > 1 && toks[1].Text == "with") {
		var out []assignment
		start := 1
		for i := 1; i+1 < len(toks); i++ {
			// i >= start: an "as" right after "as" is the previous
			// clause's target name, not a new clause.
			if i >= start && toks[i].Kind == pylex.Name && toks[i].Text == "as" && toks[i+1].Kind == pylex.Name {
				name, _ := pylex.Dotted(toks, i+1)
				out = append(out, assignment{[]string{name}, false, l[0] + start, l[0] + i})
				start = i + 2
			}
		}
		return out
	}
	if toks[0].Kind == pylex.Name && toks[0].Text == "for" {
		for i := 1; i < len(toks); i++ {
			if toks[i].Kind == pylex.Name && toks[i].Text == "in" {
				return []assignment{{targets(toks[1:i]), false, l[0] + i + 1, l[1]}}
			}
		}
		return nil
	}
	depth := 0
	for i, t := range toks {
		if t.Kind != pylex.Op {
			continue
		}
		switch t.Text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case "=":
			if depth != 0 || i == 0 || i+1 < len(toks) && toks[i+1].Text == "=" {
				continue
			}
			switch toks[i-1].Text {
			case "=", "!", "<", ">":
				continue // a comparison
			}
			lhs := toks[:i]
			if strings.Contains("+-*/%&|^@", toks[i-1].Text) && toks[i-1].Kind == pylex.Op {
				lhs = toks[:i-1]
			}
			return []assignment{{targets(lhs), false, l[0] + i + 1, l[1]}}
		}
	}
	return nil
}

// targets returns the names assigned by the tokens left of "=".
func targets(lhs []pylex.Token) []string {
	var out []string
	depth := 0
	for i := 0; i < len(lhs); i++ {
		t := lhs[i]
		switch {
		case t.Kind == pylex.Op && t.Text == "[":
			depth++
		case t.Kind == pylex.Op && t.Text == "]":
			depth--
		case t.Kind == pylex.Name && depth == 0 && (i == 0 || lhs[i-1].Text != "."):
			name, j := pylex.Dotted(lhs, i)
			out = append(out, name)
			i = j - 1
		}
	}
	return out
}

// span returns the token range of a call's arguments.
func span(c *pylex.Call) (int, int) { return c.Open + 1, c.End }

func (a *analysis) judge(c *pylex.Call) {
	callee := normalize(c.Callee)
	lo, hi := span(c)
	k := a.kinds(lo, hi)
	switch {
	case callee == "exec" || callee == "eval" || callee == "compile" || callee == "execfile":
		if len(c.Pos) == 0 {
			if _, ok := c.Kw["source"]; !ok {
				return
			}
		} else if _, ok := plain(c.Pos[0]); ok {
			a.literalCode(c, c.Pos[0][0])
			return // a literal: what runs is in the file
		}
		a.sink(c, k, "runs code built at run time")
	case callee == "types.FunctionType" || callee == "types.CodeType" || callee == "types.LambdaType":
		a.sink(c, k, "builds a function from a code object")
	case callee == "marshal.loads" || callee == "marshal.load":
		if k&vDecoded != 0 {
			a.call(RuleObfuscated, c, "unmarshals decoded data into code objects", 0.95)
			return
		}
		a.call(RuleDeserialize, c, "unmarshals data, which can hold code objects", 0.8)
	case pickleLoaders[callee]:
		if k&vDecoded != 0 {
			a.call(RuleObfuscated, c, "unpickles decoded data: a pickle runs what it names", 0.95)
			return
		}
		a.call(RuleDeserialize, c, "unpickles data: a pickle runs what it names when loaded", 0.8)
	case callee == "torch.load":
		if v, ok := c.Kw["weights_only"]; !ok || pylex.Text(v) != "True" {
			a.call(RuleDeserialize, c, "torch.load without weights_only=True unpickles arbitrary objects", 0.8)
		}
	case callee == "numpy.load":
		if v, ok := c.Kw["allow_pickle"]; ok && pylex.Text(v) == "True" {
			a.call(RuleDeserialize, c, "allow_pickle=True unpickles object arrays", 0.8)
		}
	case strings.HasPrefix(callee, "pip.") || callee == "runpy.run_module" && a.pipIn(lo, hi):
		a.call(RuleInstall, c, "installs packages while the model loads", 0.95)
	case isProcess(callee):
		if a.pipIn(lo, hi) && has(a.install, lo, hi) {
			a.call(RuleInstall, c, "installs packages while the model loads", 0.95)
			return
		}
		switch {
		case k&vDecoded != 0:
			a.call(RuleProcess, c, "runs a command built from decoded data", 0.95, finding.Critical)
		case k&vFetched != 0:
			a.call(RuleProcess, c, "runs a command built from downloaded data", 0.95, finding.Critical)
		case k&vShell != 0:
			a.call(RuleProcess, c, "runs a shell command that downloads or spawns a shell", 0.95, finding.Critical)
		default:
			a.call(RuleProcess, c, "runs an operating-system command while the model loads", 0.9)
		}
	case isNetwork(callee):
		if a.credential != "" {
			a.call(RuleNetwork, c, "opens a network connection in a file that also reads credentials ("+a.credential+")", 0.9, finding.High)
			return
		}
		a.call(RuleNetwork, c, "opens a network connection while the model loads", 0.8)
	case isNative(callee):
		a.call(RuleNative, c, "loads a native library", 0.8)
	}
}

// literalCode analyses the string literal that exec, eval or compile
// runs as code of its own, once (not the literals inside it), and reports
// what it finds at the call.
func (a *analysis) literalCode(c *pylex.Call, lit pylex.Token) {
	if a.nested {
		return
	}
	code := pylex.Unquote(lit.Text)
	if !strings.ContainsAny(lit.Text[:strings.IndexAny(lit.Text, `"'`)], "rR") {
		code = unescape(code)
	}
	in := &analysis{path: a.path, src: code, nested: true}
	in.run()
	for _, f := range in.out.Findings() {
		r := ruleByID[f.RuleID]
		if r == nil || r == RuleLimit {
			continue
		}
		a.call(r, c, "in the code it runs: "+f.Message, f.Confidence, f.Severity)
	}
}

// unescape resolves the escapes of a Python string that matter for
// reading it as code: line breaks, tabs, quotes and backslashes.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\r`, "", `\'`, "'", `\"`, `"`, `\\`, `\`).Replace(s)
}

// sink reports code built at run time: critical when it comes from
// decoded data or a download.
func (a *analysis) sink(c *pylex.Call, k uint8, what string) {
	switch {
	case k&vDecoded != 0:
		a.call(RuleObfuscated, c, what+" from decoded data", 0.95)
	case k&vFetched != 0:
		a.call(RuleDynamic, c, what+" from downloaded data", 0.95, finding.Critical)
	default:
		a.call(RuleDynamic, c, what, 0.8)
	}
}

func (a *analysis) pipIn(lo, hi int) bool { return has(a.pip, lo, hi) }

// call reports a finding at a call's callee.
func (a *analysis) call(r *finding.Rule, c *pylex.Call, msg string, conf float64, sev ...finding.Severity) {
	a.at(r, c.Tok.Off, c.Tok.Line, c.Name+"(…)", msg, conf, sev...)
}

// at reports a finding at byte offset off on line line, once per rule and
// line.
func (a *analysis) at(r *finding.Rule, off, line int, excerpt, msg string, conf float64, sev ...finding.Severity) {
	key := r.ID + "\x00" + itoa(line)
	if a.seen[key] {
		return
	}
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	a.seen[key] = true
	f := finding.New(r, finding.Location{Path: a.path, Line: line, Column: a.column(off, line), Offset: int64(off)}, conf, modelfinding.Clip(excerpt, modelfinding.MaxExcerpt))
	f.Message = msg
	f.Detector = Detector
	if len(sev) > 0 {
		f.Severity = sev[0]
	}
	a.out.Add(f)
}

// column returns the 1-based column of byte offset off on line line.
func (a *analysis) column(off, line int) int {
	if a.lineStart == nil {
		a.lineStart = []int{0}
		for i := 0; i < len(a.src); i++ {
			if a.src[i] == '\n' {
				a.lineStart = append(a.lineStart, i+1)
			}
		}
	}
	if line < 1 || line > len(a.lineStart) || a.lineStart[line-1] > off {
		return 1
	}
	return off - a.lineStart[line-1] + 1
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
