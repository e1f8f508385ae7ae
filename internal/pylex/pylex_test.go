package pylex

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func kinds(toks []Token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString("NSDO;"[t.Kind : t.Kind+1])
	}
	return b.String()
}

func TestLex(t *testing.T) {
	for _, c := range []struct{ src, kinds, texts string }{
		{"x = 1\n", "NOD;", "x|=|1|\n"},
		{"# comment\nf(a,\n  b)\n", ";NONONO;", "\n|f|(|a|,|b|)|\n"},
		{`s = rb'a\'b' + f"{x}"`, "NOSOS", `s|=|rb'a\'b'|+|f"{x}"`},
		{"'''a\nb'''\nc", "S;N", "'''a\nb'''|\n|c"},
		{"x = 'abc\ny", "NOS;N", "x|=|'abc|\n|y"},
		{"a \\\n+ b", "NON", "a|+|b"},
		{"1.5e3 0x1F", "DD", "1.5e3|0x1F"},
		{"é = 1", "NOD", "é|=|1"},
	} {
		toks := Lex(c.src)
		var texts []string
		for _, t := range toks {
			texts = append(texts, t.Text)
		}
		// kinds: N name, S string, D number, O op, ; newline.
		if got := kinds(toks); got != c.kinds || strings.Join(texts, "|") != c.texts {
			t.Errorf("Lex(%q) = %s %q, want %s %q", c.src, got, strings.Join(texts, "|"), c.kinds, c.texts)
		}
	}
	toks := Lex("a\n'''x\ny'''\nb")
	if last := toks[len(toks)-1]; last.Text != "b" || last.Line != 4 || last.Off != 12 {
		t.Errorf("position after a triple-quoted string: %+v", last)
	}
}

func TestImports(t *testing.T) {
	imp := Collect(Lex(`import os, numpy as np
import os.path
import a.b.c as abc
from yaml import load, dump as d
from . import sibling
from .mod import X as Y
from ..pkg.sub import (Z,
    W as V)
from __future__ import annotations
x = 1
`))
	for name, want := range map[string]string{
		"os": "os", "np": "numpy", "abc": "a.b.c", "load": "yaml.load", "d": "yaml.dump",
		"sibling": ".sibling", "Y": ".mod.X", "Z": "..pkg.sub.Z", "V": "..pkg.sub.W",
	} {
		if got := imp[name]; got != want {
			t.Errorf("imports[%q] = %q, want %q", name, got, want)
		}
	}
	if _, ok := imp["x"]; ok {
		t.Error("an assignment bound an import")
	}
	for in, want := range map[string]string{"np.load": "numpy.load", "load": "yaml.load", "other.f": "other.f", "abc.d": "a.b.c.d"} {
		if got := imp.Resolve(in); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCalls(t *testing.T) {
	src := `import subprocess as sp
sp.Popen(["a", "b"], shell=x == 1, env={"k": v, "j": w})
def f(a, b): pass
obj.method(1)(2)
g(h(1, 2), k=(3, 4))
if a == f(b):
    pass
unclosed(1, 2
`
	toks := Lex(src)
	var got []string
	for _, c := range Calls(toks, Collect(toks)) {
		var args []string
		for _, p := range c.Pos {
			args = append(args, Text(p))
		}
		var kws []string
		for k, v := range c.Kw {
			kws = append(kws, k+"="+Text(v))
		}
		slices.Sort(kws)
		closed := c.End < len(toks) && toks[c.End].Text == ")"
		got = append(got, fmt.Sprintf("%s(%s|%s) %s %d %v", c.Callee, strings.Join(args, ","), strings.Join(kws, ","), c.Name, c.Tok.Line, closed))
	}
	want := []string{
		`subprocess.Popen(["a","b"]|env={"k":v,"j":w},shell=x==1) sp.Popen 2 true`,
		`obj.method(1|) obj.method 4 true`,
		`g(h(1,2)|k=(3,4)) g 5 true`,
		`h(1,2|) h 5 true`,
		`f(b|) f 6 true`,
		`unclosed(1|) unclosed 8 false`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCallsNesting(t *testing.T) {
	n := MaxNesting + 50
	toks := Lex(strings.Repeat("f(", n) + "x" + strings.Repeat(")", n))
	calls := Calls(toks, nil)
	if len(calls) != MaxNesting {
		t.Fatalf("%d calls, want %d", len(calls), MaxNesting)
	}
	if c := calls[0]; c.End != len(toks)-1 || len(c.Pos) != 1 {
		t.Errorf("outermost call: end %d of %d, %d args", c.End, len(toks), len(c.Pos))
	}
}

func TestLiteral(t *testing.T) {
	for _, c := range []struct {
		src    string
		want   string
		ok     bool
		interp bool
	}{
		{`'abc'`, "abc", true, false},
		{`rb"a\x00"`, `a\x00`, true, false},
		{`"""doc"""`, "doc", true, false},
		{`f"{x}.py"`, "{x}.py", true, true},
		{`F'plain'`, "plain", true, false},
		{`x`, "", false, false},
	} {
		toks := Lex(c.src)
		v, ok := Literal(toks)
		if v != c.want || ok != c.ok || Interpolated(toks[0]) != c.interp {
			t.Errorf("Literal(%s) = %q %v interpolated %v", c.src, v, ok, Interpolated(toks[0]))
		}
	}
	if _, ok := Literal(Lex("'a' 'b'")); ok {
		t.Error("two literals are not one literal")
	}
}

func FuzzLex(f *testing.F) {
	f.Add("import os as o\nfrom .a import (b as c)\no.system(f(x, y=[1, {2: 3}]))\n")
	f.Add("x = '''\n")
	f.Add("f(a=(b, [c, {d: e}]), g=\\\n h)\n")
	f.Fuzz(func(t *testing.T, s string) {
		toks := Lex(s)
		line, off := 1, -1
		for _, tk := range toks {
			if tk.Off <= off || tk.Off+len(tk.Text) > len(s) || s[tk.Off:tk.Off+len(tk.Text)] != tk.Text || tk.Line < line {
				t.Fatalf("token %+v after offset %d line %d", tk, off, line)
			}
			off, line = tk.Off, tk.Line
		}
		imp := Collect(toks)
		prev := -1
		for _, c := range Calls(toks, imp) {
			if c.Start <= prev || c.Open <= c.Start || c.End < c.Open || c.End > len(toks) || toks[c.Open].Text != "(" {
				t.Fatalf("bad call %+v", c)
			}
			prev = c.Start
		}
	})
}
