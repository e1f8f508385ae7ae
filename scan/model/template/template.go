// Package template statically checks Jinja2 chat templates — the
// tokenizer.chat_template of a GGUF file or the chat_template of a Hugging
// Face tokenizer_config.json — for server-side template injection.
//
// Loaders that render a chat template with an unsandboxed Jinja environment
// (llama-cpp-python before 0.2.72, CVE-2024-34359; SGLang, CVE-2026-5760)
// run whatever Python the template reaches: from any object, the attribute
// chain __class__ → __mro__ → __subclasses__() or __init__ → __globals__ →
// __builtins__ → __import__('os') executes commands. Check lexes the
// template the way Jinja does (text, comments and raw blocks are skipped; a
// delimiter inside a string or brackets does not end a tag) and reports, in
// each {{ expression }} and {% statement %}:
//
//   - access to Python dunder attributes, written directly (.__class__,
//     ["__globals__"], dict(__class__=…)) or assembled from pieces:
//     concatenation with + or ~, repetition ("_"*2), |join, |format,
//     |reverse, and escape sequences in string literals (\x5f, \u005f,
//     \N{LOW LINE}, octal);
//   - private attributes (._TemplateReference__context);
//   - the globals that hand out Python objects (cycler, joiner, lipsum,
//     namespace used as an object, self, config, request) and names of
//     code execution (os, popen, subprocess, eval, exec, __import__);
//   - the |attr filter and str.format fields that read attributes;
//   - statements that load other templates (include, import, extends);
//   - invisible and bidirectional-control characters anywhere in the
//     template, and templates of unusual length.
//
// Real chat templates use none of these, so each is reported at high or
// critical severity (invisible characters and length at low or medium).
package template

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/detect/textnorm"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Detector is the value of Finding.Detector for findings of this package.
const Detector = "model.template"

// LongTemplate is the length in bytes from which a template is reported as
// unusually long (real chat templates stay under about 20 KiB).
const LongTemplate = 64 << 10

// maxTemplate bounds how much of a template is checked; the rest is
// reported, not scanned.
const maxTemplate = 4 << 20

var family = finding.Family{
	Name:        "model.template",
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not render this chat template; replace it with the template of the upstream model, and render templates only in a sandboxed Jinja environment (jinja2.sandbox.ImmutableSandboxedEnvironment).",
	References: finding.References{
		OWASP: []string{"LLM03:2025", "LLM05:2025"},
		ATLAS: []string{"AML.T0010", "AML.T0011"},
		CWE:   []string{"CWE-1336", "CWE-94"},
	},
}

// The rules of this package.
var (
	RuleDunder     = family.Rule("dunder", "Template reaches Python internals through a dunder attribute", finding.Critical)
	RuleExec       = family.Rule("code-execution", "Template names a code-execution primitive", finding.Critical)
	RuleGlobal     = family.Rule("dangerous-global", "Template uses a Jinja global that exposes Python objects", finding.High)
	RulePrivate    = family.Rule("private-attribute", "Template reads a private attribute", finding.High)
	RuleObfuscated = family.Rule("obfuscation", "Template builds names with attr, format or escape sequences", finding.High)
	RuleInclude    = family.Rule("include", "Template loads other templates or files", finding.High)
	RuleBidi       = family.Rule("bidi", "Template contains bidirectional controls or tag characters", finding.Medium)
	RuleInvisible  = family.Rule("invisible", "Template contains invisible characters", finding.Low)
	RuleLong       = family.Rule("long", "Template is unusually long", finding.Low)
	RuleDunderText = family.Rule("dunder-text", "Python dunder name in template text, comments or raw blocks", finding.Medium)
)

// Rules returns every rule this package can emit.
func Rules() []finding.Rule {
	return modelfinding.Rules(RuleDunder, RuleExec, RuleGlobal, RulePrivate, RuleObfuscated, RuleInclude, RuleBidi, RuleInvisible, RuleLong, RuleDunderText)
}

// globals are names that, used as values, give a template a Python object
// whose attributes lead to __globals__ (Jinja's cycler, joiner, lipsum,
// the template reference self, Flask's config and request…).
var globals = map[string]bool{
	"cycler": true, "joiner": true, "lipsum": true, "self": true, "config": true,
	"request": true, "url_for": true, "get_flashed_messages": true, "session": true,
}

// execNames are names of code execution as Jinja names or attributes.
var execNames = map[string]bool{
	"os": true, "subprocess": true, "popen": true, "eval": true, "exec": true, "__import__": true,
	"import_module": true, "importlib": true, "getattr": true, "setattr": true, "globals": true,
	"builtins": true, "sys": true, "compile": true, "check_output": true, "getoutput": true,
	"spawnv": true, "spawnl": true, "execv": true, "execl": true, "load_module": true,
	"breakpoint": true, "mro": true, "system": true,
}

// execAttrOnly are exec names reported only as called attributes
// (.system(…)): otherwise they are ordinary words ("system" is a chat role).
var execAttrOnly = map[string]bool{"system": true, "mro": true}

// execStrings are string literal values that only make sense as a lookup of
// a code-execution primitive (__globals__['os'], .get('popen')).
var execStrings = map[string]bool{
	"os": true, "popen": true, "subprocess": true, "sys": true, "eval": true, "exec": true,
	"__import__": true, "builtins": true, "__builtins__": true, "import_module": true,
	"getattr": true, "check_output": true, "getoutput": true,
}

// Check returns the findings for a Jinja2 chat template. Each finding's
// Location has the byte Span of the tag (or character run) in tmpl and its
// 1-based Line and Column; Excerpt is the tag's source, clipped.
func Check(tmpl string) []finding.Finding {
	c := &checker{src: tmpl}
	if len(tmpl) >= LongTemplate {
		c.add(RuleLong, 0, min(len(tmpl), 64), fmt.Sprintf("template is %d bytes long: real chat templates stay under about 20 KiB; review it in full", len(tmpl)))
	}
	s := tmpl
	if len(s) > maxTemplate {
		s = s[:maxTemplate]
	}
	c.invisible(s)
	tags := lex(s)
	for _, t := range tags {
		c.tag(t)
	}
	c.text(s, tags)
	return modelfinding.Cap(c.fs)
}

// sstiDunders are the attribute names template injection payloads use.
var sstiDunders = []string{
	"__class__", "__mro__", "__subclasses__", "__globals__", "__builtins__", "__import__",
	"__init__", "__base__", "__bases__", "__getattribute__", "__dict__", "__code__", "__reduce__",
}

// text reports the SSTI dunder names that occur outside every tag: in
// text, comments or raw blocks they do not run under Jinja, but a renderer
// whose lexer differs from this one may see a tag there.
func (c *checker) text(s string, tags []tag) {
	for _, d := range sstiDunders {
		for i := 0; ; {
			j := strings.Index(s[i:], d)
			if j < 0 {
				break
			}
			at := i + j
			i = at + len(d)
			in := slices.ContainsFunc(tags, func(t tag) bool { return at >= t.start && at < t.end })
			if !in {
				c.add(RuleDunderText, at, at+len(d), fmt.Sprintf("%s appears outside any tag: inert under Jinja, but a sign of a payload aimed at another renderer", d))
				return
			}
		}
	}
}

// MaxPerRule is the number of findings of one rule Check lists; the rest
// are counted in one summary finding.
const MaxPerRule = modelfinding.MaxPerRule

// checker accumulates the findings of one template.
type checker struct {
	src  string
	fs   []finding.Finding
	seen map[string]bool // rule@start, one finding per rule per tag
	// vars holds the constant string each {% set name = … %} assembles,
	// so that a name split across tags ({% set a = "__cla" %}…{{ x[a ~
	// "ss__"] }}) is still seen whole.
	vars map[string]string
}

// maxVar bounds the value kept per variable.
const maxVar = 4 << 10

func (c *checker) add(r *finding.Rule, start, end int, msg string) {
	k := fmt.Sprintf("%s@%d", r.ID, start)
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if c.seen[k] {
		return
	}
	c.seen[k] = true
	line, col := lineCol(c.src, start)
	f := finding.New(r, finding.Location{Line: line, Column: col, Span: &finding.Span{Start: start, End: end}}, 1, modelfinding.Clip(c.src[start:end], 200))
	f.Message = msg
	f.Detector = Detector
	c.fs = append(c.fs, f)
}

func lineCol(s string, off int) (int, int) {
	line := 1 + strings.Count(s[:off], "\n")
	col := off - strings.LastIndexByte(s[:off], '\n')
	return line, col
}

// invisible reports invisible and bidi characters: one finding per kind,
// at the first run, with the count.
func (c *checker) invisible(s string) {
	spans := textnorm.Invisible(s)
	if len(spans) == 0 {
		return
	}
	type agg struct {
		first textnorm.Span
		n     int
	}
	byKind := map[textnorm.Kind]*agg{}
	var order []textnorm.Kind
	for _, sp := range spans {
		a := byKind[sp.Kind]
		if a == nil {
			a = &agg{first: sp}
			byKind[sp.Kind] = a
			order = append(order, sp.Kind)
		}
		a.n += sp.End - sp.Start
	}
	for _, k := range order {
		a := byKind[k]
		switch k {
		case textnorm.Bidi:
			c.add(RuleBidi, a.first.Start, a.first.End, fmt.Sprintf("%d bytes of bidirectional controls: the template reads differently from how it renders", a.n))
		case textnorm.TagChar:
			c.add(RuleBidi, a.first.Start, a.first.End, fmt.Sprintf("%d bytes of Unicode tag characters smuggle invisible text: %q", a.n, modelfinding.Clip(textnorm.TagText(s), 120)))
		default:
			c.add(RuleInvisible, a.first.Start, a.first.End, fmt.Sprintf("%d bytes of invisible %s characters", a.n, k))
		}
	}
}

// tag checks one expression or statement.
func (c *checker) tag(t tag) {
	toks := t.toks
	report := func(r *finding.Rule, msg string) { c.add(r, t.start, t.end, msg) }
	if t.stmt && len(toks) > 0 && toks[0].kind == tName {
		switch toks[0].text {
		case "include", "import", "extends", "from":
			report(RuleInclude, fmt.Sprintf("{%% %s %%} loads another template from the renderer's loader", toks[0].text))
		case "debug":
			report(RuleInclude, "{% debug %} dumps the render context")
		}
	}
	for i, tok := range toks {
		prev := op(toks, i-1)
		next := op(toks, i+1)
		switch tok.kind {
		case tName:
			name := tok.text
			afterDot := prev == "."
			switch {
			case isDunder(name):
				report(RuleDunder, fmt.Sprintf("%s reaches Python internals", name))
			case afterDot && strings.HasPrefix(name, "_"):
				report(RulePrivate, fmt.Sprintf("attribute %s is private", name))
			case execNames[name] && (!execAttrOnly[name] || afterDot && next == "(") && next != "=" && !isKeywordArg(toks, i):
				report(RuleExec, fmt.Sprintf("%s is a code-execution primitive", name))
			case !afterDot && globals[name] && next != "=" && !isAssigned(toks, i):
				report(RuleGlobal, fmt.Sprintf("global %s exposes a Python object whose attributes lead to __globals__", name))
			case !afterDot && name == "namespace" && next == ".":
				report(RuleGlobal, "namespace used as an object: its attributes lead to __globals__")
			case prev == "|" && name == "attr":
				report(RuleObfuscated, "|attr reads an attribute by a computed name, the usual way around attribute filters")
			case afterDot && name == "format" && i >= 2 && toks[i-2].kind == tString && formatFields(toks[i-2].val):
				report(RuleObfuscated, fmt.Sprintf("str.format with field %q reads attributes or items", toks[i-2].val))
			case prev == "|" && name == "format" && i >= 2 && toks[i-2].kind == tString && strings.Contains(toks[i-2].val, "%c"):
				report(RuleObfuscated, "|format with %c builds characters from numbers")
			}
		case tString:
			if tok.escaped {
				report(RuleObfuscated, fmt.Sprintf("string %s spells ASCII characters with escape sequences (decodes to %q)", modelfinding.Clip(tok.text, 60), modelfinding.Clip(tok.val, 60)))
			}
			if d := dunderIn(tok.val); d != "" {
				report(RuleDunder, fmt.Sprintf("string %q names %s", modelfinding.Clip(tok.val, 60), d))
			} else if execStrings[tok.val] && (prev == "[" || prev == "(" || prev == ",") {
				report(RuleExec, fmt.Sprintf("string %q looks up a code-execution primitive", tok.val))
			}
		}
	}
	// Names assembled from pieces: every chain of literals (and of
	// variables set to constants) joined by + or ~ (with "x"*n repetition),
	// all the tag's pieces in order (|join, |format, lists), and their
	// reversals (|reverse).
	pieces := assembled(toks, c.vars)
	if t.stmt && len(toks) > 3 && toks[0].text == "set" && toks[1].kind == tName && op(toks, 2) == "=" {
		if v := assembled(toks[3:], c.vars); len(v) > 0 {
			if c.vars == nil {
				c.vars = map[string]string{}
			}
			c.vars[toks[1].text] = modelfinding.Clip(v[len(v)-1], maxVar)
		}
	}
	for _, s := range pieces {
		if d := dunderIn(s); d != "" {
			report(RuleDunder, fmt.Sprintf("string pieces assemble %s", d))
			break
		}
		if r := reverse(s); dunderIn(r) != "" {
			report(RuleDunder, fmt.Sprintf("reversed string assembles %s", dunderIn(r)))
			break
		}
	}
}

// op returns the text of toks[i] if it is an operator, else "".
func op(toks []token, i int) string {
	if i < 0 || i >= len(toks) || toks[i].kind != tOp {
		return ""
	}
	return toks[i].text
}

// isKeywordArg reports whether toks[i] is a keyword argument name (f(x=1)).
func isKeywordArg(toks []token, i int) bool {
	return op(toks, i+1) == "=" && (op(toks, i-1) == "(" || op(toks, i-1) == ",")
}

// isAssigned reports whether toks[i] is the target of set or for, e.g. a
// loop variable that happens to be called session.
func isAssigned(toks []token, i int) bool {
	return i == 1 && toks[0].kind == tName && (toks[0].text == "set" || toks[0].text == "for")
}

func isDunder(name string) bool {
	return len(name) > 4 && strings.HasPrefix(name, "__") && strings.HasSuffix(name, "__")
}

// dunderIn returns the first __name__ inside s, or "".
func dunderIn(s string) string {
	for i := 0; ; {
		j := strings.Index(s[i:], "__")
		if j < 0 {
			return ""
		}
		start := i + j
		k := start + 2
		for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9' || s[k] == '_' && !strings.HasPrefix(s[k:], "__")) {
			k++
		}
		if k > start+2 && strings.HasPrefix(s[k:], "__") {
			return s[start : k+2]
		}
		i = start + 1
	}
}

// formatFields reports whether a str.format string has a replacement
// field that reads an attribute or item ({0.__class__}, {x[y]}).
func formatFields(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return false
		}
		field := s[i+1 : i+end]
		if strings.ContainsAny(field, ".[") {
			return true
		}
		i += end
	}
	return false
}

// assembled returns the strings a tag can build from its literals and
// from variables with known constant values; the last is all pieces in
// order.
func assembled(toks []token, vars map[string]string) []string {
	var out []string
	var all strings.Builder
	var chain strings.Builder
	inChain := false
	flush := func() {
		if inChain && chain.Len() > 0 {
			out = append(out, chain.String())
		}
		chain.Reset()
		inChain = false
	}
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		val, isConst := tok.val, tok.kind == tString
		if tok.kind == tName && op(toks, i-1) != "." {
			val, isConst = vars[tok.text]
		}
		switch {
		case isConst:
			v := val
			// "x" * n repetition.
			if op(toks, i+1) == "*" && i+2 < len(toks) && toks[i+2].kind == tNumber {
				if n := atoiSmall(toks[i+2].text); n > 0 {
					v = strings.Repeat(v, min(n, 8))
				}
				i += 2
			}
			all.WriteString(v)
			if !inChain {
				chain.Reset()
			}
			chain.WriteString(v)
			inChain = true
		case tok.kind == tOp && (tok.text == "+" || tok.text == "~") && inChain:
			// the chain continues
		case tok.kind == tOp && (tok.text == "(" || tok.text == ")") && inChain:
			// ("_"*2) ~ "class": parentheses keep the chain
		default:
			flush()
		}
	}
	flush()
	if all.Len() > 0 {
		out = append(out, all.String())
	}
	return slices.Compact(out)
}

func atoiSmall(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1000 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
