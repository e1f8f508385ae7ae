package redact_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/pii"
	"github.com/rampartsec/rampart/detect/secrets"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/redact"
)

var testRule = &finding.Rule{ID: "test.rule"}

func hit(s, e int, label string) detect.Hit {
	return detect.Hit{Rule: testRule, Start: s, End: e, Score: 1, Label: label}
}

func TestApply(t *testing.T) {
	text := "0123456789abcdefghij"
	for _, tc := range []struct {
		name  string
		hits  []detect.Hit
		style redact.Style
		want  string
	}{
		{"none", nil, redact.StyleLabel, text},
		{"one", []detect.Hit{hit(2, 5, "A")}, redact.StyleLabel, "01[REDACTED:A]56789abcdefghij"},
		{"fixed", []detect.Hit{hit(2, 5, "A")}, redact.StyleFixed, "01****56789abcdefghij"},
		{"no label", []detect.Hit{hit(0, 20, "")}, redact.StyleLabel, "[REDACTED]"},
		{"unsorted", []detect.Hit{hit(10, 12, "B"), hit(0, 1, "A")}, redact.StyleLabel, "[REDACTED:A]123456789[REDACTED:B]cdefghij"},
		{"overlap merges, first start's label", []detect.Hit{hit(4, 8, "B"), hit(2, 6, "A")}, redact.StyleLabel, "01[REDACTED:A]89abcdefghij"},
		{"same start, longer wins", []detect.Hit{hit(2, 4, "A"), hit(2, 9, "B")}, redact.StyleLabel, "01[REDACTED:B]9abcdefghij"},
		{"same span, smaller label", []detect.Hit{hit(2, 4, "Z"), hit(2, 4, "M")}, redact.StyleLabel, "01[REDACTED:M]456789abcdefghij"},
		{"nested", []detect.Hit{hit(1, 10, "A"), hit(3, 4, "B")}, redact.StyleLabel, "0[REDACTED:A]abcdefghij"},
		{"chain of overlaps", []detect.Hit{hit(0, 3, "A"), hit(2, 6, "B"), hit(5, 9, "C")}, redact.StyleLabel, "[REDACTED:A]9abcdefghij"},
		{"touching stay apart", []detect.Hit{hit(0, 3, "A"), hit(3, 6, "B")}, redact.StyleLabel, "[REDACTED:A][REDACTED:B]6789abcdefghij"},
		{"clamped", []detect.Hit{hit(-5, 2, "A"), hit(18, 99, "B")}, redact.StyleLabel, "[REDACTED:A]23456789abcdefgh[REDACTED:B]"},
		{"empty and inverted ignored", []detect.Hit{hit(3, 3, "A"), hit(9, 4, "B")}, redact.StyleLabel, text},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.Apply(text, tc.hits, tc.style); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	g := secretstest.New(1)
	key := g.OpenAI()
	other := g.GitHub()
	text := "config:\nOPENAI_API_KEY=" + key + " # prod, backup " + other + " ok"
	start := strings.Index(text, key)
	ex := redact.Excerpt(text, start, start+len(key))
	if strings.Contains(ex, key[4:12]) || strings.Contains(ex, other[4:12]) {
		t.Fatalf("excerpt %q shows a secret", ex)
	}
	for _, want := range []string{"[sk-p…(" + itoa(len(key)) + " bytes)]", "OPENAI_API_KEY=", "# prod", "…"} {
		if !strings.Contains(ex, want) {
			t.Errorf("excerpt %q lacks %q", ex, want)
		}
	}
	if strings.Contains(ex, "\n") {
		t.Errorf("excerpt %q has a line break", ex)
	}
	// Short values get no hint at all.
	if ex := redact.Excerpt("pin 1234 ok", 4, 8); ex != "pin [(4 bytes)] ok" {
		t.Errorf("short value: %q", ex)
	}
	// Spans are clamped and never split a rune.
	if ex := redact.Excerpt("héllo wörld", -3, 2); !strings.HasPrefix(ex, "[(3 bytes)]") {
		t.Errorf("clamped: %q", ex)
	}
	if ex := redact.Excerpt("abc", 5, 9); ex != "abc[(0 bytes)]" {
		t.Errorf("past the end: %q", ex)
	}
	// ExcerptHit masks the other hits it shows.
	d, err := secrets.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pii.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	text = "user jane.doe@example.com key " + g.Stripe()
	hits, _ := d.Detect(context.Background(), detect.Input{Text: text})
	ph, _ := p.Detect(context.Background(), detect.Input{Text: text})
	hits = append(ph, hits...)
	ex = redact.ExcerptHit(text, hits, 1)
	if strings.Contains(ex, "jane.doe@") || strings.Contains(ex, "example.com") || !strings.Contains(ex, "•••") {
		t.Fatalf("ExcerptHit %q shows the e-mail address", ex)
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func FuzzStream(f *testing.F) {
	for i, text := range corpus() {
		f.Add(text, []byte{byte(i), 3, 200, 1, 1, 50})
	}
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", []byte{30, 1, 1, 1})
	dets := detectors(f)
	f.Fuzz(func(t *testing.T, text string, sizes []byte) {
		if len(text) > 4096 {
			return
		}
		var cuts []int
		for c, i := 0, 0; i < len(sizes); i++ {
			c += int(sizes[i])
			if c >= len(text) {
				break
			}
			if sizes[i] > 0 {
				cuts = append(cuts, c)
			}
		}
		want := expected(t, dets, nil, redact.StyleLabel, text)
		compare(t, "fuzz", want, stream(t, dets, nil, redact.StyleLabel, text, cuts, want, redactedValues(t, dets, nil, text)))
	})
}

// defaultSet is the gateway's default detector set: all secrets rules, and
// cards and e-mail addresses.
func defaultSet(b testing.TB) []detect.Detector {
	s, err := secrets.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	p, err := pii.New(map[string]any{"entities": []any{"credit_card", "email"}})
	if err != nil {
		b.Fatal(err)
	}
	return []detect.Detector{s, p}
}

func BenchmarkDefaultSetDetect(b *testing.B) {
	dets := defaultSet(b)
	for _, n := range []int{1 << 10, 8 << 10} {
		text := secretstest.CleanText(n)
		b.Run(itoa(n>>10)+"KB-clean", func(b *testing.B) {
			in := detect.Input{Text: text}
			ctx := context.Background()
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range dets {
					hs, err := d.Detect(ctx, in)
					if err != nil || len(hs) > 0 {
						b.Fatal(err, hs)
					}
				}
			}
		})
	}
}

// BenchmarkStreamWrite streams a 4 KB clean answer in chunks of 5 to 20
// bytes, as a model's tokens arrive, and reports the cost per chunk.
func BenchmarkStreamWrite(b *testing.B) {
	text := secretstest.CleanText(4 << 10)
	for _, size := range []int{5, 10, 20} {
		b.Run("chunk-"+itoa(size), func(b *testing.B) {
			for _, set := range []struct {
				name string
				dets []detect.Detector
			}{{"default", defaultSet(b)}, {"all", detectors(b)}} {
				b.Run(set.name, func(b *testing.B) {
					chunks := 0
					b.ReportAllocs()
					for b.Loop() {
						s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: set.dets})
						out := 0
						for i := 0; i < len(text); i += size {
							rel, _, err := s.Write(text[i:min(i+size, len(text))])
							if err != nil {
								b.Fatal(err)
							}
							out += len(rel)
							chunks++
						}
						rel, _, _ := s.Flush()
						if out+len(rel) != len(text) {
							b.Fatal("lost text")
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(chunks), "ns/chunk")
				})
			}
		})
	}
}

func TestApplyFunc(t *testing.T) {
	text := "mail a@b.example or c@d.example now"
	hits := []detect.Hit{hit(20, 31, "EMAIL"), hit(5, 16, "EMAIL"), hit(5, 9, "X")}
	var seen []string
	got := redact.ApplyFunc(text, hits, func(i int, v string) string {
		seen = append(seen, hits[i].Label+"="+v)
		return "<" + hits[i].Label + ">"
	})
	if want := "mail <EMAIL> or <EMAIL> now"; got != want {
		t.Fatalf("ApplyFunc = %q, want %q", got, want)
	}
	// The merged span [5,16) takes the label of the longer hit and its
	// whole text as the value.
	if len(seen) != 2 || seen[0] != "EMAIL=a@b.example" || seen[1] != "EMAIL=c@d.example" {
		t.Fatalf("replace called with %q", seen)
	}
	if redact.ApplyFunc(text, nil, nil) != text {
		t.Fatal("no hits changed the text")
	}
}

func TestExcerptNoHint(t *testing.T) {
	text := "write to jane.doe@corp-mail.example today"
	if got := redact.Excerpt(text, 9, 35); !strings.Contains(got, "[jane…(26 bytes)]") {
		t.Fatalf("Excerpt = %q", got)
	}
	got := redact.ExcerptNoHint(text, 9, 35)
	if got != "write to [(26 bytes)] today" {
		t.Fatalf("ExcerptNoHint = %q", got)
	}
	card := "mail jane.doe@corp-mail.example card 4111 1111 1111 1111"
	hits := []detect.Hit{hit(5, 31, "EMAIL"), hit(37, 56, "CREDIT_CARD")}
	if got := redact.ExcerptHitNoHint(card, hits, 0); got != "mail [(26 bytes)] card •••…" {
		t.Fatalf("ExcerptHitNoHint = %q", got)
	}
	if redact.ExcerptHitNoHint(card, hits, 2) != "" {
		t.Fatal("out of range")
	}
}
