// Package pylex reads Python source as tokens, well enough for static
// checks that look for calls: it finds logical lines, the names a file's
// import statements bind, and every call expression with its callee
// resolved through those imports and its arguments split at the top level
// into positional and keyword arguments.
//
// It is no parser: it never fails, accepts any bytes, and works in time
// linear in the size of the source. Strings and comments never look like
// code, keyword arguments are told from comparisons (f(a == b) has no
// keyword), and a name imported under another name (import torch as th;
// from yaml import load as l) resolves to what it names.
package pylex

import "strings"

// MaxSource is the size of the largest source a checker built on this
// package is meant to read; callers ignore or report larger sources.
const MaxSource = 16 << 20

// MaxNesting bounds how deeply Calls follows calls within the arguments
// of calls: a call nested deeper is not reported on its own (its tokens
// stay in the arguments of the call around it).
const MaxNesting = 256

// Lines splits tokens into logical lines, without their Newline tokens
// and without empty lines.
func Lines(toks []Token) [][]Token {
	var out [][]Token
	start := 0
	for i, t := range toks {
		if t.Kind == Newline {
			if i > start {
				out = append(out, toks[start:i])
			}
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

// Dotted reads NAME(.NAME)* from toks[i:] and returns the dotted name and
// the index of the token after it; "" and i when toks[i] is no name.
func Dotted(toks []Token, i int) (string, int) {
	if i >= len(toks) || toks[i].Kind != Name {
		return "", i
	}
	j := dottedEnd(toks, i)
	if j == i+1 {
		return toks[i].Text, j
	}
	var b strings.Builder
	b.WriteString(toks[i].Text)
	for k := i + 1; k < j; k += 2 {
		b.WriteString(".")
		b.WriteString(toks[k+1].Text)
	}
	return b.String(), j
}

// dottedEnd returns the index after NAME(.NAME)* starting at the name
// toks[i].
func dottedEnd(toks []Token, i int) int {
	j := i + 1
	for j+1 < len(toks) && toks[j].Kind == Op && toks[j].Text == "." && toks[j+1].Kind == Name {
		j += 2
	}
	return j
}

// Imports maps the names a file's import statements bind to the
// qualified names they stand for: "np" → "numpy" after import numpy as
// np, "load" → "yaml.load" after from yaml import load, "Y" → ".mod.X"
// after from .mod import X as Y (relative imports are kept as written,
// dots first).
type Imports map[string]string

// Add records the names one logical line binds if it is an import
// statement (import …, from … import …); other lines are ignored.
func (m Imports) Add(l []Token) {
	if len(l) == 0 || l[0].Kind != Name {
		return
	}
	switch l[0].Text {
	case "import":
		for i := 1; i < len(l); {
			mod, j := Dotted(l, i)
			if mod == "" {
				break
			}
			local, _, _ := strings.Cut(mod, ".")
			target := local
			if j+1 < len(l) && l[j].Text == "as" && l[j+1].Kind == Name {
				local, target = l[j+1].Text, mod
				j += 2
			}
			m[local] = target
			if j < len(l) && l[j].Text == "," {
				j++
			}
			i = j
		}
	case "from":
		i := 1
		for i < len(l) && l[i].Kind == Op && l[i].Text == "." {
			i++
		}
		dots := i - 1
		mod, j := "", i
		if i < len(l) && l[i].Text != "import" {
			mod, j = Dotted(l, i)
		}
		if mod == "" && dots == 0 || j >= len(l) || l[j].Text != "import" {
			return
		}
		prefix := strings.Repeat(".", dots) + mod
		if mod != "" {
			prefix += "."
		}
		for i := j + 1; i < len(l); i++ {
			t := l[i]
			if t.Kind != Name {
				continue
			}
			local, target := t.Text, prefix+t.Text
			if i+2 < len(l) && l[i+1].Text == "as" && l[i+2].Kind == Name {
				local = l[i+2].Text
				i += 2
			}
			m[local] = target
		}
	}
}

// Collect returns the names bound by every import statement among toks.
func Collect(toks []Token) Imports {
	m := Imports{}
	for _, l := range Lines(toks) {
		m.Add(l)
	}
	return m
}

// Resolve qualifies a dotted name through the imports: with import
// subprocess as sp, "sp.Popen" resolves to "subprocess.Popen". A name
// whose first part no import binds is returned unchanged.
func (m Imports) Resolve(name string) string {
	head, rest, _ := strings.Cut(name, ".")
	q, ok := m[head]
	if !ok {
		return name
	}
	if rest == "" {
		return q
	}
	return q + "." + rest
}

// Call is one call expression NAME(.NAME)*(…).
type Call struct {
	// Callee is the called name resolved through the imports, e.g.
	// "torch.load" for th.load(…) after import torch as th.
	Callee string
	// Name is the callee as written, e.g. "th.load".
	Name string
	// Tok is the callee's first token.
	Tok Token
	// Start is the index of Tok, Open that of the opening parenthesis and
	// End that of the closing bracket (len of the tokens when the call is
	// not closed), all in the tokens given to Calls.
	Start, Open, End int
	// Pos holds the positional arguments, Kw the keyword arguments by
	// name (nil when there are none). *args and **kw are positional.
	Pos [][]Token
	Kw  map[string][]Token
}

// Calls finds every call expression NAME(.NAME)*(…) in toks, in the order
// of their callees; a callee after "." (a method of a call's result), "def"
// or "class" is none. Arguments are split at commas outside nested
// brackets. Callees are resolved through imp, which may be nil.
func Calls(toks []Token, imp Imports) []Call {
	type frame struct{ idx, level, start int }
	var (
		out   []Call
		stack []frame
		depth int
	)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.Kind {
		case Op:
			switch t.Text {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth > 0 {
					depth--
				}
				if n := len(stack); n > 0 && stack[n-1].level > depth {
					f := stack[n-1]
					out[f.idx].arg(toks[f.start:i])
					out[f.idx].End = i
					stack = stack[:n-1]
				}
			case ",":
				if n := len(stack); n > 0 && stack[n-1].level == depth {
					out[stack[n-1].idx].arg(toks[stack[n-1].start:i])
					stack[n-1].start = i + 1
				}
			}
		case Name:
			if i > 0 && (toks[i-1].Text == "." || toks[i-1].Text == "def" || toks[i-1].Text == "class") {
				continue
			}
			j := dottedEnd(toks, i)
			if j >= len(toks) || toks[j].Kind != Op || toks[j].Text != "(" {
				continue
			}
			name, _ := Dotted(toks, i)
			depth++
			if len(stack) < MaxNesting {
				stack = append(stack, frame{idx: len(out), level: depth, start: j + 1})
				out = append(out, Call{Callee: imp.Resolve(name), Name: name, Tok: t, Start: i, Open: j, End: len(toks)})
			}
			i = j
		}
	}
	return out
}

// arg records one argument: keyword (NAME = value, not ==) or positional.
func (c *Call) arg(a []Token) {
	if len(a) == 0 {
		return
	}
	if len(a) >= 2 && a[0].Kind == Name && a[1].Kind == Op && a[1].Text == "=" && (len(a) == 2 || a[2].Text != "=") {
		if c.Kw == nil {
			c.Kw = map[string][]Token{}
		}
		c.Kw[a[0].Text] = a[2:]
		return
	}
	c.Pos = append(c.Pos, a)
}

// Text joins the tokens' source text without the white space between
// them: Text of the tokens of "a . b ( 1 )" is "a.b(1)".
func Text(ts []Token) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.Text)
	}
	return b.String()
}

// Literal returns the content of an argument that is one string literal
// (prefix and quotes removed, escapes left as written). An f-string is a
// literal here; Interpolated tells whether it has replacement fields.
func Literal(ts []Token) (string, bool) {
	if len(ts) != 1 || ts[0].Kind != String || len(strings.TrimLeft(ts[0].Text, "rRbBuUfF")) < 2 {
		return "", false
	}
	return Unquote(ts[0].Text), true
}

// Unquote removes the prefix and quotes of a String token's text,
// leaving escapes as written. The text of an unterminated string keeps
// what follows its opening quote.
func Unquote(s string) string {
	s = strings.TrimLeft(s, "rRbBuUfF")
	if len(s) == 0 {
		return ""
	}
	q := s[:1]
	if len(s) >= 6 && strings.HasPrefix(s, q+q+q) && strings.HasSuffix(s, q+q+q) {
		return s[3 : len(s)-3]
	}
	if strings.HasPrefix(s, q+q+q) {
		return s[3:]
	}
	if len(s) >= 2 && strings.HasSuffix(s, q) {
		return s[1 : len(s)-1]
	}
	return s[1:]
}

// Interpolated reports an f-string token with a replacement field, whose
// value is computed at run time.
func Interpolated(t Token) bool {
	if t.Kind != String {
		return false
	}
	p := t.Text[:strings.IndexAny(t.Text, `"'`)+1]
	return strings.ContainsAny(p, "fF") && strings.Contains(t.Text, "{")
}
