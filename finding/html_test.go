package finding

import (
	"bytes"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func writeHTML(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestHTMLEscapes(t *testing.T) {
	out := writeHTML(t, hostileReport())
	lower := strings.ToLower(out)
	// The page has no script of its own, so any <script is injected.
	if strings.Contains(lower, "<script") {
		t.Error("a <script> tag reached the page")
	}
	if strings.Contains(lower, "<img") || strings.Contains(lower, "<b>") {
		t.Error("markup from a finding reached the page")
	}
	for _, want := range []string{
		"<code class=\"excerpt\">&lt;script&gt;alert(1)&lt;/script&gt;</code>",        // excerpt
		"<span class=\"loc\">&lt;script&gt;alert(1)&lt;/script&gt;/x.html:1:1</span>", // path
		"&lt;img src=x onerror=alert(1)&gt; &#34;quoted&#34; &amp; &#39;single&#39;",  // title
		"<code>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</code>",            // target
		`<li>OWASP &#34;&gt;&lt;script&gt;</li>`,                                      // unknown reference, not linked
		`clear\x1b[2J\x1b]0;title\x07 bell\r\nnext\tline`,                             // controls shown as escapes
		`access\u202e level \u2066hidden\u2069 zero\u200bwidth`,                       // bidi shown as escapes
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.ContainsAny(out, "\x1b\u202e\u2066") {
		t.Error("a raw control or bidi character reached the page")
	}
	if strings.Contains(out, "javascript:") && !strings.Contains(out, "[link](javascript:alert(1))") {
		t.Error("a javascript: URL appears outside escaped text")
	}
	if strings.Contains(lower, `href="javascript`) {
		t.Error("a javascript: link reached the page")
	}
}

var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>`)

// checkBalanced checks that every non-void element is closed in order.
func checkBalanced(t *testing.T, page string) {
	t.Helper()
	void := map[string]bool{"meta": true, "input": true, "br": true, "!doctype": true}
	var stack []string
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		name := strings.ToLower(m[2])
		if void[name] {
			continue
		}
		if m[1] == "" {
			stack = append(stack, name)
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1] != name {
			t.Fatalf("</%s> closes %v", name, stack)
		}
		stack = stack[:len(stack)-1]
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	for _, tc := range reportCases {
		t.Run(tc.name, func(t *testing.T) {
			out := writeHTML(t, tc.report())
			checkBalanced(t, out)
			// No element loads anything: no script, link, frame, object or
			// image, and no src attribute.
			for _, m := range tagRE.FindAllStringSubmatch(out, -1) {
				tag := strings.ToLower(m[0])
				switch strings.ToLower(m[2]) {
				case "script", "link", "iframe", "object", "embed", "img", "base":
					t.Errorf("page contains %q", m[0])
				}
				if strings.Contains(tag, " src=") || strings.Contains(tag, " on") {
					t.Errorf("page contains %q", m[0])
				}
			}
			style := out[strings.Index(out, "<style>"):strings.Index(out, "</style>")]
			for _, banned := range []string{"@import", "url(", "expression("} {
				if strings.Contains(style, banned) {
					t.Errorf("style contains %q", banned)
				}
			}
			if !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src 'none';`) {
				t.Error("no Content-Security-Policy")
			}
			allowed := []string{"genai.owasp.org", "atlas.mitre.org", "cwe.mitre.org"}
			for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(out, -1) {
				u, err := url.Parse(m[1])
				if err != nil || u.Scheme != "https" || !slices.Contains(allowed, u.Host) {
					t.Errorf("unexpected link %q", m[1])
				}
			}
			if n, want := strings.Count(out, `<tr class="sev-`), len(tc.report().Findings); n != want {
				t.Errorf("%d finding rows, want %d", n, want)
			}
		})
	}
}

func TestHTMLContent(t *testing.T) {
	out := writeHTML(t, sampleReport())
	for _, want := range []string{
		`<title>Rampart report: scan all</title>`,
		`<li class="c-total"><span class="n">8</span>findings</li>`,
		`<li class="c-high"><span class="n">3</span>high</li>`,
		`<tr><td>5. infrastructure</td><td class="num">1</td><td class="num">1</td>`,
		`<a href="https://genai.owasp.org/llmrisk/llm022025-sensitive-information-disclosure/" rel="noopener noreferrer" target="_blank">OWASP LLM02:2025</a>`,
		`<a href="https://atlas.mitre.org/techniques/AML.T0051.000" rel="noopener noreferrer" target="_blank">ATLAS AML.T0051.000</a>`,
		`<a href="https://cwe.mitre.org/data/definitions/798.html" rel="noopener noreferrer" target="_blank">CWE-798</a>`,
		`<td>Revoke the key in IAM, rotate it, and load it from a secret store.</td>`,
		`<dt>Duration</dt><dd>1.235s</dd>`,
		`<dt>Started</dt><dd>2026-11-27T09:30:00Z</dd>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Report order: the critical finding's row comes first.
	if i, j := strings.Index(out, "secrets.aws-access-key"), strings.Index(out, "output.system-prompt-leak"); i < 0 || j < i {
		t.Error("findings are not in report order")
	}
	empty := writeHTML(t, emptyReport())
	if !strings.Contains(empty, `<p class="empty">No findings.</p>`) || strings.Contains(empty, `<table class="findings">`) {
		t.Error("empty report does not say so")
	}
}

func TestHTMLLongExcerpt(t *testing.T) {
	out := writeHTML(t, longReport())
	re := regexp.MustCompile(`<code class="excerpt">([^<]*)</code>`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		if n := len([]rune(m[1])); n > htmlMaxExcerpt {
			t.Errorf("excerpt of %d characters, want at most %d", n, htmlMaxExcerpt)
		}
	}
}

func TestReferenceURLs(t *testing.T) {
	tests := []struct {
		fn       func(string) string
		id, want string
	}{
		{owaspURL, "LLM01:2025", "https://genai.owasp.org/llmrisk/llm01-prompt-injection/"},
		{owaspURL, "llm02:2025", "https://genai.owasp.org/llmrisk/llm022025-sensitive-information-disclosure/"},
		{owaspURL, "LLM10", "https://genai.owasp.org/llmrisk/llm102025-unbounded-consumption/"},
		{owaspURL, "LLM08:2025", "https://genai.owasp.org/llmrisk/llm082025-vector-and-embedding-weaknesses/"},
		{owaspURL, "LLM01:2023", owaspTop10URL},
		{owaspURL, "LLM11:2025", owaspTop10URL},
		{owaspURL, "LLM1:2025", ""},
		{owaspURL, "LLM01:25", ""},
		{owaspURL, "A03:2021", ""},
		{owaspURL, "", ""},
		{atlasURL, "AML.T0051", "https://atlas.mitre.org/techniques/AML.T0051"},
		{atlasURL, "aml.t0051.000", "https://atlas.mitre.org/techniques/AML.T0051.000"},
		{atlasURL, "AML.TA0002", "https://atlas.mitre.org/tactics/AML.TA0002"},
		{atlasURL, "AML.M0015", "https://atlas.mitre.org/mitigations/AML.M0015"},
		{atlasURL, "AML.CS0000", "https://atlas.mitre.org/studies/AML.CS0000"},
		{atlasURL, "AML.T51", ""},
		{atlasURL, "AML.M0015.000", ""},
		{atlasURL, "AML.T0051/../../x", ""},
		{atlasURL, "T0051", ""},
		{cweURL, "CWE-798", "https://cwe.mitre.org/data/definitions/798.html"},
		{cweURL, "cwe-0079", "https://cwe.mitre.org/data/definitions/79.html"},
		{cweURL, "CWE-", ""},
		{cweURL, "CWE-79x", ""},
		{cweURL, "798", ""},
	}
	for _, tc := range tests {
		if got := tc.fn(tc.id); got != tc.want {
			t.Errorf("url(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
