package finding

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextEscapesAndAlignment(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, hostileReport(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !utf8.ValidString(out) {
		t.Error("table is not valid UTF-8")
	}
	for _, c := range out {
		if c == '\n' {
			continue
		}
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u202e' || c == '\u2066' || c == '\u200b' {
			t.Fatalf("table contains the raw control or format character %U", c)
		}
	}
	for _, want := range []string{`\x1b[31m`, `\u202e`, `\xff`, `\r\n`} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks the escape %q", want)
		}
	}
	// Every row's title column starts at the same display column, wide
	// characters included.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	col := -1
	for _, l := range lines[:len(lines)-2] {
		i := strings.Index(l, "<img")
		if i < 0 {
			i = strings.Index(l, "TITLE")
		}
		w := displayWidth(l[:i])
		if col < 0 {
			col = w
		} else if w != col {
			t.Errorf("title column at %d, want %d, in %q", w, col, l)
		}
	}
}

func TestTextColor(t *testing.T) {
	var plain, color bytes.Buffer
	if err := WriteText(&plain, sampleReport(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("colour without asking for it")
	}
	if err := WriteText(&color, sampleReport(), TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(color.String(), "\x1b[1;35mcritical\x1b[0m") {
		t.Error("critical is not coloured")
	}
	// Without the colour codes the two tables are the same.
	stripped := color.String()
	for _, code := range append(ansiSeverity[:], ansiReset) {
		stripped = strings.ReplaceAll(stripped, code, "")
	}
	if stripped != plain.String() {
		t.Errorf("coloured table differs beyond colour:\n%s", firstDiff(plain.String(), stripped))
	}
}

func TestTextExcerptWidth(t *testing.T) {
	ru := Rule{ID: "r", Title: "T", Layer: LayerOutput, Severity: Low}
	r := &Report{Findings: []Finding{New(&ru, Location{Path: "a"}, 1, strings.Repeat("x", 100))}}
	for _, tc := range []struct{ max, want int }{{0, DefaultMaxExcerpt}, {10, 10}, {200, 100}} {
		var buf bytes.Buffer
		if err := WriteText(&buf, r, TextOptions{MaxExcerpt: tc.max}); err != nil {
			t.Fatal(err)
		}
		row := strings.Split(buf.String(), "\n")[1]
		fields := strings.Fields(row)
		if got := displayWidth(fields[3]); got != tc.want {
			t.Errorf("MaxExcerpt %d: excerpt %q is %d columns, want %d", tc.max, fields[3], got, tc.want)
		}
	}
}

func TestSummaryLine(t *testing.T) {
	one := &Report{Findings: []Finding{{RuleID: "r", Severity: High, Layer: LayerOutput}}}
	if got, want := summaryLine(one.Summary()), "1 finding: 0 critical, 1 high, 0 medium, 0 low, 0 info"; got != want {
		t.Errorf("summaryLine = %q, want %q", got, want)
	}
}

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"tab\there", `tab\there`},
		{"esc\x1b[0m", `esc\x1b[0m`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"rtl\u202eevil", `rtl\u202eevil`},
		{"zw\u200bsp", `zw\u200bsp`},
		{"bad\xff", `bad\xff`},
		{"tag\U000E0041", `tag\U000e0041`},
		{"中文 😀 é", "中文 😀 é"},
		{"e\u0301", "e\u0301"},
	}
	for _, tc := range tests {
		if got := visible(tc.in); got != tc.want {
			t.Errorf("visible(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer th…"},
		{"中文中文中文", 6, "中文…"},
		{"中文中文中文", 7, "中文中…"},
		{"e\u0301e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301…"},
		{"anything", 1, "…"},
		{"anything", 0, ""},
	}
	for _, tc := range tests {
		got := truncate(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if displayWidth(got) > max(tc.max, 0) {
			t.Errorf("truncate(%q, %d) = %q is %d columns wide", tc.in, tc.max, got, displayWidth(got))
		}
	}
	left := []struct {
		in   string
		max  int
		want string
	}{
		{"a/b/c.go:12", 20, "a/b/c.go:12"},
		{"very/long/path/to/file.go:12", 12, "…/file.go:12"},
		{"路径/文件.go", 8, "…文件.go"},
		{"路径/文件.go", 7, "…件.go"},
		{"xe\u0301e\u0301", 2, "…e\u0301"},
	}
	for _, tc := range left {
		if got := truncateLeft(tc.in, tc.max); got != tc.want {
			t.Errorf("truncateLeft(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
