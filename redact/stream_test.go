package redact_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/length"
	"github.com/rampartsec/rampart/detect/pii"
	"github.com/rampartsec/rampart/detect/pii/piitest"
	"github.com/rampartsec/rampart/detect/secrets"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/redact"
)

func detectors(t testing.TB) []detect.Detector {
	t.Helper()
	s, err := secrets.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pii.New(map[string]any{"regions": []any{"US", "GB"}})
	if err != nil {
		t.Fatal(err)
	}
	return []detect.Detector{s, p}
}

// spanOnly hides a detector's Holder and LookBehinder, so that a Stream
// falls back to holding back MaxSpan()-1 bytes and keeping MaxSpan() bytes
// of look-behind.
type spanOnly struct{ d detect.Detector }

func (s spanOnly) Name() string           { return s.d.Name() }
func (s spanOnly) Rules() []*finding.Rule { return s.d.Rules() }
func (s spanOnly) MaxSpan() int           { return s.d.(detect.Spanner).MaxSpan() }
func (s spanOnly) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	return s.d.Detect(ctx, in)
}

// corpus returns texts full of fake credentials and personal data, with
// their boundaries in awkward places.
func corpus() []string {
	g := secretstest.New(1)
	p := piitest.New(2)
	conn, _ := g.AzureConnectionString()
	return []string{
		"Sure! Here is the config you asked for:\n\nOPENAI_API_KEY=" + g.OpenAI() +
			"\nAWS_ACCESS_KEY_ID=" + g.AWSKeyID() + "\nAWS_SECRET_ACCESS_KEY=" + g.AWSSecret() +
			"\n\nContact " + p.Email() + " or pay with " + piitest.Group(p.Card("4", 16), " ") + ". Thanks!",
		`{"type": "service_account", "project_id": "demo", "private_key": "` + g.PEM(3, `\n`) +
			`\n", "client_email": "svc@demo.iam.gserviceaccount.com", "password": "` + g.Password(16) + `"}`,
		"```\n" + g.PEM(4, "\n") + "\n```\nKeep it safe. Token: " + g.GitHub() + " ok",
		"Here is the key, cut short:\n" + strings.TrimSuffix(g.PEM(3, "\n"), "\n-----END RSA PRIVATE KEY-----"),
		"IBAN " + piitest.Group(p.IBAN("DE", 22), " ") + ", SSN: " + p.SSN() + ", call +44 20 7946 0958 or (415) 555-2671; " +
			"server " + p.PublicIPv4() + " and 2001:4860:4860::8888 — ünïcödé 日本語 🎉 " + p.Email() + "🎉",
		"Authorization: Bearer " + g.JWT() + "\nslack " + g.Slack() + "\n" + g.GitHubPAT() + " " + g.Stripe() +
			" " + g.HuggingFace() + "\nrampart " + g.Rampart() + "\n" + conn + "\npostgres://admin:" + g.Password(12) + "@db.internal:5432/app",
		"Not secrets: 550e8400-e29b-41d4-a716-446655440000, commit 3f786850e387550fdab836ed7e6dc881de23001b, " +
			"sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, v1.2.3, 10.0.0.1, " +
			"placeholders sk-... and sk-your-key-here, AKIA" + "IOSFODNN7EXAMPLE, order 123-456-7890, 4111 1111 1111 1112.",
		g.AWSKeyID() + g.OpenAILegacy() + " api_key=" + g.OpenAI() + p.Email() + "," + p.Email() + " " + g.Anthropic(),
		g.GitLab(),
		"",
		"no secrets here at all, just a short sentence.",
	}
}

type result struct {
	out  string
	hits []string
}

// expected is what a Stream must produce: Apply over the whole text, and
// every hit the detectors report on it.
func expected(t testing.TB, dets []detect.Detector, red func(string, detect.Hit) bool, style redact.Style, text string) result {
	t.Helper()
	var mask []detect.Hit
	var hits []string
	for _, d := range dets {
		hs, err := d.Detect(context.Background(), detect.Input{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			r := red == nil || red(d.Name(), h)
			if r {
				mask = append(mask, h)
			}
			hits = append(hits, hitKey(d.Name(), h, r))
		}
	}
	slices.Sort(hits)
	return result{redact.Apply(text, mask, style), hits}
}

func hitKey(det string, h detect.Hit, red bool) string {
	return fmt.Sprintf("%s %s %d-%d %s %v", det, h.Rule.ID, h.Start, h.End, h.Label, red)
}

// stream feeds text to a Stream cut at cuts and checks, after every
// chunk, that nothing released so far holds a redacted value.
func stream(t testing.TB, dets []detect.Detector, red func(string, detect.Hit) bool, style redact.Style, text string, cuts []int, want result, secretsIn []string) result {
	t.Helper()
	s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets, Redact: red, Style: style})
	var out strings.Builder
	var hits []string
	check := func(rel string, hs []redact.Hit, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(rel)
		for _, h := range hs {
			hits = append(hits, hitKey(h.Detector, h.Hit, h.Redacted))
		}
		if !strings.HasPrefix(want.out, out.String()) {
			t.Fatalf("released %q, which is not a prefix of %q", out.String(), want.out)
		}
		for _, v := range secretsIn {
			if strings.Contains(out.String(), v) && !strings.Contains(want.out, v) {
				t.Fatalf("released text holds a redacted value %q after %d bytes in", v, out.Len())
			}
		}
	}
	prev := 0
	for _, c := range append(cuts, len(text)) {
		rel, hs, err := s.Write(text[prev:c])
		check(rel, hs, err)
		prev = c
	}
	rel, hs, err := s.Flush()
	check(rel, hs, err)
	slices.Sort(hits)
	return result{out.String(), hits}
}

// redactedValues returns the values a run must never release.
func redactedValues(t testing.TB, dets []detect.Detector, red func(string, detect.Hit) bool, text string) []string {
	var vs []string
	for _, d := range dets {
		hs, _ := d.Detect(context.Background(), detect.Input{Text: text})
		for _, h := range hs {
			if (red == nil || red(d.Name(), h)) && h.End-h.Start >= 8 {
				vs = append(vs, text[h.Start:h.End])
			}
		}
	}
	return vs
}

func compare(t *testing.T, what string, want, got result) {
	t.Helper()
	if got.out != want.out {
		t.Fatalf("%s: released text differs from Apply over the whole text\n got: %q\nwant: %q", what, got.out, want.out)
	}
	if !slices.Equal(got.hits, want.hits) {
		t.Fatalf("%s: hits differ\n got: %q\nwant: %q", what, got.hits, want.hits)
	}
}

func TestStreamEveryTwoWaySplit(t *testing.T) {
	dets := detectors(t)
	for i, text := range corpus() {
		want := expected(t, dets, nil, redact.StyleLabel, text)
		vals := redactedValues(t, dets, nil, text)
		if i < 6 && len(want.hits) == 0 {
			t.Fatalf("text %d: the corpus text has no hits; the test would prove nothing", i)
		}
		for c := 0; c <= len(text); c++ {
			compare(t, fmt.Sprintf("text %d cut at %d", i, c), want, stream(t, dets, nil, redact.StyleLabel, text, []int{c}, want, vals))
		}
	}
}

func randomCuts(r *rand.Rand, n, maxChunk int) []int {
	var cuts []int
	for c := 0; ; {
		c += 1 + r.IntN(maxChunk)
		if c >= n {
			return cuts
		}
		cuts = append(cuts, c)
	}
}

func everyByte(n int) []int {
	cuts := make([]int, 0, n)
	for c := 1; c < n; c++ {
		cuts = append(cuts, c)
	}
	return cuts
}

func TestStreamRandomChunks(t *testing.T) {
	dets := detectors(t)
	fixed := []detect.Detector{spanOnly{dets[0]}, spanOnly{dets[1]}}
	onlySecrets := func(det string, _ detect.Hit) bool { return det == "secrets" }
	r := rand.New(rand.NewPCG(3, 4))
	for i, text := range corpus() {
		for _, tc := range []struct {
			name  string
			dets  []detect.Detector
			red   func(string, detect.Hit) bool
			style redact.Style
		}{
			{"holder", dets, nil, redact.StyleLabel},
			{"fixed holdback", fixed, nil, redact.StyleFixed},
			{"secrets only", dets, onlySecrets, redact.StyleLabel},
		} {
			want := expected(t, tc.dets, tc.red, tc.style, text)
			vals := redactedValues(t, tc.dets, tc.red, text)
			compare(t, fmt.Sprintf("text %d %s 1-byte chunks", i, tc.name), want,
				stream(t, tc.dets, tc.red, tc.style, text, everyByte(len(text)), want, vals))
			for k := 0; k < 30; k++ {
				cuts := randomCuts(r, len(text), []int{3, 20, 200}[k%3])
				compare(t, fmt.Sprintf("text %d %s cuts %v", i, tc.name, cuts), want,
					stream(t, tc.dets, tc.red, tc.style, text, cuts, want, vals))
			}
		}
	}
}

// TestStreamRandomTexts inserts random fake secrets into random text (words,
// digits, punctuation, multi-byte runes) and streams it in random chunks.
func TestStreamRandomTexts(t *testing.T) {
	dets := detectors(t)
	r := rand.New(rand.NewPCG(5, 6))
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := 0; i < n; i++ {
		text := randomText(r, uint64(i))
		want := expected(t, dets, nil, redact.StyleLabel, text)
		vals := redactedValues(t, dets, nil, text)
		for k := 0; k < 5; k++ {
			cuts := randomCuts(r, len(text), []int{1, 4, 16, 64, 512}[k])
			compare(t, fmt.Sprintf("random text %d (%q) cuts %v", i, text, cuts), want,
				stream(t, dets, nil, redact.StyleLabel, text, cuts, want, vals))
		}
	}
}

var fillers = []string{
	"the", "key", "is", "password:", "token=", "aws", "SSN", "call", "+1", "(415)", "555-", "2671", "4111", "1111",
	"-", ".", ",", "@", ":", "::", "=", "\n", "  ", "é", "日本", "🎉", "0", "12", "1.2.3", "AKIA", "sk-", "ghp_", "eyJ",
	"-----BEGIN", "-----END", "PRIVATE KEY-----", "\\n", "\"", "'", "DE89", "192.168", "2001:db8", "x@y", "mail",
}

func randomText(r *rand.Rand, seed uint64) string {
	g := secretstest.New(seed)
	p := piitest.New(seed)
	gens := []func() string{
		g.OpenAI, g.OpenAILegacy, g.Anthropic, g.AWSKeyID, g.AWSSecret, g.GCPAPIKey, g.GitHub, g.GitHubPAT,
		g.GitLab, g.Slack, g.Stripe, g.HuggingFace, g.Rampart, g.JWT,
		func() string { return g.PEM(1+g.Intn(3), "\n") },
		func() string { return "password = \"" + g.Password(14) + "\"" },
		func() string { return "AccountKey=" + g.AzureKey() },
		func() string { return "aws_secret_access_key: " + g.AWSSecret() },
		func() string { return g.AWSKeyID() + " " + g.AWSSecret() },
		p.Email, p.SSN, p.PublicIPv4,
		func() string { return "SSN " + strings.ReplaceAll(p.SSN(), "-", "") },
		func() string { return piitest.Group(p.Card("5", 16), "-") },
		func() string { return p.Card("37", 15) },
		func() string { return piitest.Group(p.IBAN("GB", 22), " ") },
		func() string { return "+44 20 7946 0958" },
	}
	var b strings.Builder
	for n := 5 + r.IntN(40); n > 0; n-- {
		if r.IntN(6) == 0 {
			b.WriteString(gens[r.IntN(len(gens))]())
		} else {
			b.WriteString(fillers[r.IntN(len(fillers))])
		}
		if r.IntN(3) > 0 {
			b.WriteByte(" \n,."[r.IntN(4)])
		}
	}
	return b.String()
}

func TestStreamNeverSplitsUTF8(t *testing.T) {
	dets := detectors(t)
	text := strings.Repeat("日本語のテキスト🎉 ", 40)
	for c := 0; c <= len(text); c += 7 {
		s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets})
		for _, chunk := range []string{text[:c], text[c:]} {
			rel, _, err := s.Write(chunk)
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.ValidString(rel) {
				t.Fatalf("cut %d: released %q is not valid UTF-8", c, rel)
			}
		}
	}
}

func TestStreamReleasesEarly(t *testing.T) {
	// Holders hold back only what could still change: a clean answer is
	// released up to its last word, not MaxSpan bytes behind.
	dets := detectors(t)
	s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets})
	var out strings.Builder
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20)
	for i := 0; i < len(text); i += 10 {
		rel, _, err := s.Write(text[i:min(i+10, len(text))])
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(rel)
		if held := i + 10 - out.Len(); held > 16 {
			t.Fatalf("after %d bytes, %d are held back", min(i+10, len(text)), held)
		}
	}
	// A key being written is held back from its start.
	g := secretstest.New(9)
	key := g.GitHub()
	s = redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets})
	rel1, _, _ := s.Write("my token is " + key[:10])
	rel2, _, _ := s.Write(key[10:] + " and more")
	rel3, hits, _ := s.Flush()
	if rel1 != "my token is " || !strings.HasPrefix(rel2, "[REDACTED:GITHUB_TOKEN]") || rel3 != "more" && !strings.HasSuffix(rel2+rel3, " and more") {
		t.Fatalf("releases %q %q %q", rel1, rel2, rel3)
	}
	_ = hits
}

func TestStreamHitOffsets(t *testing.T) {
	dets := detectors(t)
	g := secretstest.New(11)
	key := g.GitHub()
	prefix := strings.Repeat("words and more words. ", 50)
	s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets})
	var got []redact.Hit
	for _, c := range []string{prefix, key[:5], key[5:], " end"} {
		_, hs, err := s.Write(c)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, hs...)
	}
	_, hs, _ := s.Flush()
	got = append(got, hs...)
	if len(got) != 1 || got[0].Start != len(prefix) || got[0].End != len(prefix)+len(key) || !got[0].Redacted || got[0].Detector != "secrets" {
		t.Fatalf("hits %+v, want one GitHub token at %d-%d", got, len(prefix), len(prefix)+len(key))
	}
}

// wholeText is a detector that can only judge a whole text (not a
// Spanner): it flags the text when it contains "forbidden".
type wholeText struct{}

func (wholeText) Name() string           { return "whole" }
func (wholeText) Rules() []*finding.Rule { return nil }
func (wholeText) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	if i := strings.Index(in.Text, "forbidden"); i >= 0 {
		return []detect.Hit{{Start: i, End: i + 9, Score: 1, Label: "WORD", Rule: &finding.Rule{ID: "test.word"}}}, nil
	}
	return nil, nil
}

func TestStreamBuffersForNonSpanners(t *testing.T) {
	dets := append(detectors(t), wholeText{})
	s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets})
	text := "a long text that says forbidden things and mails x@example.com"
	for i := 0; i < len(text); i += 5 {
		rel, _, err := s.Write(text[i:min(i+5, len(text))])
		if err != nil {
			t.Fatal(err)
		}
		if rel != "" {
			t.Fatalf("released %q before Flush with a non-Spanner detector", rel)
		}
	}
	rel, hits, err := s.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if want := "a long text that says [REDACTED:WORD] things and mails [REDACTED:EMAIL]"; rel != want {
		t.Fatalf("Flush released %q, want %q", rel, want)
	}
	if len(hits) != 2 {
		t.Fatalf("hits %+v", hits)
	}
}

func TestStreamTallier(t *testing.T) {
	l, err := length.New(map[string]any{"max_bytes": 20})
	if err != nil {
		t.Fatal(err)
	}
	dets := append(detectors(t), l)
	s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets})
	var out strings.Builder
	var when []int
	total := 0
	for _, c := range []string{"0123456789", "0123456789", "0", "more text"} {
		total += len(c)
		rel, hs, err := s.Write(c)
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(rel)
		for _, h := range hs {
			if h.Detector == "length" {
				if h.Redacted || h.Start != 0 || h.End != total {
					t.Fatalf("length hit %+v", h)
				}
				when = append(when, total)
			}
		}
	}
	rel, _, _ := s.Flush()
	out.WriteString(rel)
	if !slices.Equal(when, []int{21}) {
		t.Fatalf("length reported after %v bytes, want once after 21", when)
	}
	if out.String() != "01234567890123456789"+"0more text" {
		t.Fatalf("released %q: a Tallier's hit must not be redacted", out.String())
	}
}

func TestStreamErrors(t *testing.T) {
	dets := detectors(t)
	s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets})
	if _, _, err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Write("x"); !errors.Is(err, redact.ErrFlushed) {
		t.Fatalf("Write after Flush: %v, want ErrFlushed", err)
	}
	if _, _, err := s.Flush(); !errors.Is(err, redact.ErrFlushed) {
		t.Fatalf("second Flush: %v, want ErrFlushed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s = redact.NewStream(ctx, redact.StreamConfig{Detectors: dets})
	if _, _, err := s.Write("hello"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled context: %v, want context.Canceled", err)
	}
	if _, _, err := s.Flush(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush after an error: %v, want the same error", err)
	}
}

// failing is a Spanner whose Detect fails.
type failing struct{}

func (failing) Name() string           { return "failing" }
func (failing) Rules() []*finding.Rule { return nil }
func (failing) MaxSpan() int           { return 8 }
func (failing) Detect(context.Context, detect.Input) ([]detect.Hit, error) {
	return nil, errors.New("boom")
}

func TestStreamNames(t *testing.T) {
	emails, err := pii.New(map[string]any{"entities": "email"})
	if err != nil {
		t.Fatal(err)
	}
	cards, err := pii.New(map[string]any{"entities": "credit_card"})
	if err != nil {
		t.Fatal(err)
	}
	s := redact.NewStream(context.Background(), redact.StreamConfig{
		Detectors: []detect.Detector{emails, cards},
		Names:     []string{"pii-email", "pii-cards"},
		Redact:    func(name string, _ detect.Hit) bool { return name == "pii-cards" },
	})
	rel, hits, err := s.Write("mail x@example.com card 4012 8888 8888 1881 end")
	if err != nil {
		t.Fatal(err)
	}
	rel2, hits2, _ := s.Flush()
	if got := rel + rel2; got != "mail x@example.com card [REDACTED:CREDIT_CARD] end" {
		t.Fatalf("released %q", got)
	}
	var names []string
	for _, h := range append(hits, hits2...) {
		names = append(names, fmt.Sprintf("%s %v", h.Detector, h.Redacted))
	}
	if !slices.Equal(names, []string{"pii-email false", "pii-cards true"}) {
		t.Fatalf("hits from %v", names)
	}
	s = redact.NewStream(context.Background(), redact.StreamConfig{Detectors: []detect.Detector{failing{}}, Names: []string{"out-check"}})
	if _, _, err := s.Write("0123456789 abc"); err == nil || !strings.Contains(err.Error(), "out-check") {
		t.Fatalf("error %v does not name the detector", err)
	}
}

// failingLater is a span detector that fails once the stream has more
// than after bytes.
type failingLater struct{ after int }

func (f failingLater) Name() string           { return "failing" }
func (f failingLater) Rules() []*finding.Rule { return nil }
func (f failingLater) MaxSpan() int           { return 16 }
func (f failingLater) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	if len(in.Text) > f.after {
		return nil, errors.New("model unavailable")
	}
	return nil, nil
}

func TestStreamDetectorFailure(t *testing.T) {
	text := corpus()[0]
	dets := detectors(t)
	want := expected(t, dets, nil, redact.StyleLabel, text).out
	for _, failOpen := range []bool{false, true} {
		var called []string
		s := redact.NewStream(context.Background(), redact.StreamConfig{
			Detectors: append(append([]detect.Detector(nil), dets...), failingLater{after: 40}),
			OnError: func(name string, err error) bool {
				called = append(called, name)
				return failOpen
			},
		})
		var got strings.Builder
		var streamErr error
		for i := 0; i < len(text) && streamErr == nil; i += 7 {
			rel, _, err := s.Write(text[i:min(i+7, len(text))])
			got.WriteString(rel)
			streamErr = err
		}
		if streamErr == nil {
			rel, _, err := s.Flush()
			got.WriteString(rel)
			streamErr = err
		}
		if len(called) != 1 || called[0] != "failing" {
			t.Fatalf("failOpen=%v: OnError called with %v", failOpen, called)
		}
		if failOpen {
			// The failing detector is dropped; the others still redact, and
			// nothing of the text is lost.
			if streamErr != nil || got.String() != want {
				t.Fatalf("fail open: err %v, released\n%q\nwant\n%q", streamErr, got.String(), want)
			}
			continue
		}
		var de *redact.DetectorError
		if !errors.As(streamErr, &de) || de.Detector != "failing" {
			t.Fatalf("fail closed: err = %v, want a DetectorError naming the detector", streamErr)
		}
		if !strings.HasPrefix(want, got.String()) {
			t.Fatalf("fail closed released text that is not a prefix of the redaction: %q", got.String())
		}
	}
}

// TestStreamReplace: with a value-aware Replace the streamed text equals
// ApplyFunc of the whole text, at every two-way split.
func TestStreamReplace(t *testing.T) {
	dets := detectors(t)
	text := "Mail jane.doe@corp.example, card 4111 1111 1111 1111, again jane.doe@corp.example."
	replace := func(det string, h detect.Hit, v string) string { return "<" + det + ":" + h.Label + ":" + v[:2] + ">" }
	var all []detect.Hit
	var names []string
	for _, d := range dets {
		hs, err := d.Detect(context.Background(), detect.Input{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		for range hs {
			names = append(names, d.Name())
		}
		all = append(all, hs...)
	}
	want := redact.ApplyFunc(text, all, func(i int, v string) string { return replace(names[i], all[i], v) })
	if !strings.Contains(want, "<pii:EMAIL:ja>") || !strings.Contains(want, "<pii:CREDIT_CARD:41>") {
		t.Fatalf("reference %q lacks the replacements", want)
	}
	for i := 0; i <= len(text); i++ {
		s := redact.NewStream(context.Background(), redact.StreamConfig{Detectors: dets, Replace: replace})
		var b strings.Builder
		for _, c := range []string{text[:i], text[i:]} {
			out, _, err := s.Write(c)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(out)
		}
		out, _, err := s.Flush()
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(out)
		if b.String() != want {
			t.Fatalf("split %d: %q, want %q", i, b.String(), want)
		}
	}
}
