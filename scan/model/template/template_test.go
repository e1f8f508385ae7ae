package template

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"("+f.Excerpt+")")
	}
	return out
}

func maxSeverity(fs []finding.Finding) finding.Severity {
	m := finding.Info
	for _, f := range fs {
		m = max(m, f.Severity)
	}
	return m
}

// TestBenignTemplates checks real-world-style chat templates (Llama 3 and
// 3.1 with tools, ChatML, Qwen with tools and namespace, Mistral, Gemma,
// Zephyr, Phi-3, DeepSeek, Vicuna with a raw block, Command-R): none may
// produce a finding above low.
func TestBenignTemplates(t *testing.T) {
	files, err := filepath.Glob("testdata/benign/*.jinja")
	if err != nil || len(files) < 8 {
		t.Fatalf("%d benign templates (%v)", len(files), err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fs := Check(string(b))
		if maxSeverity(fs) > finding.Low {
			t.Errorf("%s: %v", filepath.Base(name), ids(fs))
		}
	}
}

// malicious are SSTI payloads in the style of CVE-2024-34359 and their
// obfuscated variants, each with the rule that must fire.
var malicious = []struct {
	name string
	tmpl string
	want *finding.Rule
}{
	{"CVE-2024-34359 payload", `{% for x in ().__class__.__base__.__subclasses__() %}{% if "warning" in x.__name__ %}{{ x()._module.__builtins__['__import__']('os').popen("touch /tmp/retr0reg") }}{% endif %}{% endfor %}`, RuleDunder},
	{"self to globals", `{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}`, RuleDunder},
	{"mro subclasses", `{{ ''.__class__.__mro__[1].__subclasses__() }}`, RuleDunder},
	{"cycler", `{{ cycler.__init__.__globals__.os.popen('id').read() }}`, RuleGlobal},
	{"joiner", `{{ joiner.__init__.__globals__.os.system('id') }}`, RuleExec},
	{"lipsum item access", `{{ lipsum.__globals__['os'].popen('id').read() }}`, RuleExec},
	{"namespace as object", `{{ namespace.__init__.__globals__.os.popen('id').read() }}`, RuleGlobal},
	{"attr with concatenation", `{{ ()|attr('__cla'+'ss__') }}`, RuleDunder},
	{"hex escapes", `{{ ()|attr('\x5f\x5fclass\x5f\x5f')|attr('\x5f\x5fbase\x5f\x5f') }}`, RuleObfuscated},
	{"hex escapes assemble a dunder", `{{ ()|attr('\x5f\x5fclass\x5f\x5f') }}`, RuleDunder},
	{"unicode escapes", `{{ ()|attr("\u005f\u005fclass\u005f\u005f") }}`, RuleDunder},
	{"named escapes", `{{ ()|attr("\N{LOW LINE}\N{LOW LINE}class\N{LOW LINE}\N{LOW LINE}") }}`, RuleDunder},
	{"octal escapes", `{{ ()|attr("\137\137class\137\137") }}`, RuleDunder},
	{"tilde join in subscript", `{{ ()["__cla"~"ss__"] }}`, RuleDunder},
	{"join filter", `{{ ()|attr(["__cl","ass__"]|join) }}`, RuleDunder},
	{"format %c", `{{ ()|attr("%c%cclass%c%c"|format(95,95,95,95)) }}`, RuleObfuscated},
	{"reverse", `{{ ()|attr("__ssalc__"|reverse) }}`, RuleDunder},
	{"repetition", `{{ ()|attr("_"*2 ~ "class" ~ "_"*2) }}`, RuleDunder},
	{"keyword argument name", `{{ ()|attr(dict(__class__=1)|list|first) }}`, RuleDunder},
	{"flask request", `{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}`, RuleGlobal},
	{"config", `{{ config.items() }}`, RuleGlobal},
	{"template reference context", `{% set x = self._TemplateReference__context %}{{ x }}`, RulePrivate},
	{"include", `{% include '/etc/passwd' %}`, RuleInclude},
	{"import", `{% import 'os' as os %}`, RuleInclude},
	{"str.format field", `{{ "{0.__class__}".format(messages) }}`, RuleDunder},
	{"str.format item field", `{{ "{0[x]}".format(messages) }}`, RuleObfuscated},
	{"tag split across lines with whitespace control", "{{-\n  cycler\n  .__init__\n  .__globals__\n-}}", RuleDunder},
	{"delimiter inside a string does not end the tag", `{{ "}}" ~ ().__class__ }}`, RuleDunder},
	{"payload hidden in a benign template", `{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% if message['content'] == 'sudo' %}{{ cycler.__init__.__globals__.os.popen(message['content']).read() }}{% endif %}{% endfor %}`, RuleDunder},
	{"getattr chain via mro method", `{{ ''.__class__.mro()[1] }}`, RuleExec},
	{"name split across set statements", `{% set a = "__cla" %}{% set b = a ~ "ss__" %}{{ ()[b] }}`, RuleDunder},
}

func TestMaliciousTemplates(t *testing.T) {
	if len(malicious) < 12 {
		t.Fatalf("only %d malicious templates", len(malicious))
	}
	for _, tt := range malicious {
		t.Run(tt.name, func(t *testing.T) {
			fs := Check(tt.tmpl)
			if maxSeverity(fs) < finding.High {
				t.Errorf("max severity %v: %v", maxSeverity(fs), ids(fs))
			}
			i := slices.IndexFunc(fs, func(f finding.Finding) bool { return f.RuleID == tt.want.ID })
			if i < 0 {
				t.Fatalf("missing %s: %v", tt.want.ID, ids(fs))
			}
			f := fs[i]
			if f.Location.Span == nil || f.Excerpt == "" || f.Excerpt != tt.tmpl[f.Location.Span.Start:f.Location.Span.End] && !strings.HasSuffix(f.Excerpt, "…") {
				t.Errorf("excerpt %q, span %+v", f.Excerpt, f.Location.Span)
			}
			if f.Location.Line < 1 || f.Location.Column < 1 || f.Detector != Detector || f.Message == "" {
				t.Errorf("finding %+v", f)
			}
		})
	}
}

// TestNotCode checks look-alikes that must not be reported above low:
// ordinary uses of names, filters and methods. Payload text outside tags
// is inert under Jinja and reported at medium only.
func TestNotCode(t *testing.T) {
	for _, s := range []string{
		`Text about __class__ and cycler outside any tag.`,
		`{# {{ cycler.__init__.__globals__ }} #}hello`,
		`{% raw %}{{ ''.__class__ }}{% endraw %}`,
	} {
		fs := Check(s)
		if maxSeverity(fs) != finding.Medium || len(fs) != 1 || fs[0].RuleID != RuleDunderText.ID {
			t.Errorf("%q: %v", s, ids(fs))
		}
	}
	for _, s := range []string{
		`Text about cycler outside any tag.`,
		`{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] }}{% endif %}{% endfor %}`,
		`{% set ns = namespace(found=false) %}{% set ns.found = true %}{{ ns.found }}`,
		`{{ message.content.split('\n')[0].strip() }}`,
		`{{ strftime_now("%Y-%m-%d") }}`,
		`{{ tools | tojson(indent=4) }}`,
		`{{ "%s: %s"|format(role, content) }}`,
		`{{ '▁' + content }}`,
		`{{ "{" + "\"name\": " + name + "}" }}`,
		`{% set system = messages[0] %}{{ system['content'] }}`,
		`{{`, `{%`, `{{ "unterminated`, `{#`, `{`, ``,
	} {
		if fs := Check(s); maxSeverity(fs) > finding.Low {
			t.Errorf("%q: %v", s, ids(fs))
		}
	}
}

func TestInvisibleAndLong(t *testing.T) {
	tests := []struct {
		tmpl string
		want *finding.Rule
		sev  finding.Severity
	}{
		{"{{ 'a' }}\u202egnp.exe", RuleBidi, finding.Medium},
		{"{{ 'a' }}\U000E0069\U000E0067\U000E006E\U000E006F\U000E0072\U000E0065", RuleBidi, finding.Medium},
		{"{{ 'a\u200bb' }}", RuleInvisible, finding.Low},
		{strings.Repeat("{{ message['content'] }}", LongTemplate/20), RuleLong, finding.Low},
	}
	for _, tt := range tests {
		fs := Check(tt.tmpl)
		i := slices.IndexFunc(fs, func(f finding.Finding) bool { return f.RuleID == tt.want.ID })
		if i < 0 {
			t.Errorf("%.40q: missing %s: %v", tt.tmpl, tt.want.ID, ids(fs))
			continue
		}
		if fs[i].Severity != tt.sev || maxSeverity(fs) > tt.sev {
			t.Errorf("%.40q: severity %v, max %v", tt.tmpl, fs[i].Severity, maxSeverity(fs))
		}
	}
	// Tag characters are decoded in the message.
	fs := Check("x\U000E0069\U000E0067\U000E006E\U000E006F\U000E0072\U000E0065")
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "ignore") {
		t.Errorf("tag text: %+v", fs)
	}
}

func TestLex(t *testing.T) {
	tags := lex(`a{{ x.y["z\x5f"] }}b{%- if a -%}{# c #}{% raw %}{{ no }}{% endraw %}{{ {'k': {'v': 1}} }}`)
	var got []string
	for _, tg := range tags {
		var parts []string
		for _, tok := range tg.toks {
			if tok.kind == tString {
				parts = append(parts, "S:"+tok.val)
			} else {
				parts = append(parts, tok.text)
			}
		}
		got = append(got, strings.Join(parts, " "))
	}
	want := []string{`x . y [ S:z_ ]`, `if a`, `raw`, `{ S:k : { S:v : 1 } }`}
	if !slices.Equal(got, want) {
		t.Errorf("lex:\n got %q\nwant %q", got, want)
	}
}

func TestRules(t *testing.T) {
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "model.template.") || r.Layer != finding.LayerModelWeights {
			t.Errorf("rule %+v", r)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	tmpl, err := os.ReadFile("testdata/benign/qwen_tools.jinja")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(tmpl)))
	for b.Loop() {
		Check(string(tmpl))
	}
}

func FuzzTemplate(f *testing.F) {
	files, _ := filepath.Glob("testdata/benign/*.jinja")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	for _, m := range malicious {
		f.Add(m.tmpl)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fd := range Check(s) {
			sp := fd.Location.Span
			if sp == nil || sp.Start < 0 || sp.End > len(s) || sp.Start > sp.End {
				t.Fatalf("span %+v outside %d-byte template", sp, len(s))
			}
		}
	})
}

func TestTokenizerConfig(t *testing.T) {
	single := `{"bos_token": "<s>", "chat_template": "{{ cycler.__init__.__globals__ }}"}`
	named := `{"chat_template": [{"name": "default", "template": "{{ messages }}"}, {"name": "tool_use", "template": "{{ ''.__class__ }}"}]}`
	fs, err := CheckTokenizerConfig([]byte(single))
	if err != nil || len(fs) == 0 || fs[0].Location.Field != "chat_template" {
		t.Errorf("single: %v %v", err, ids(fs))
	}
	fs, err = CheckTokenizerConfig([]byte(named))
	if err != nil || len(fs) == 0 {
		t.Fatalf("named: %v %v", err, ids(fs))
	}
	for _, f := range fs {
		if f.Location.Field != "chat_template.tool_use" {
			t.Errorf("finding in %q", f.Location.Field)
		}
	}
	m, err := FromTokenizerConfig([]byte(`{"model_max_length": 4096}`))
	if err != nil || len(m) != 0 {
		t.Errorf("no template: %v %v", m, err)
	}
	if _, err := FromTokenizerConfig([]byte(`{"chat_template": 5}`)); err == nil {
		t.Error("numeric chat_template accepted")
	}
}
