package pii

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/pii/piitest"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
	"github.com/rampartsec/rampart/finding"
)

func newDetector(t testing.TB, opts map[string]any) *Detector {
	t.Helper()
	if opts == nil {
		opts = map[string]any{"regions": []any{"US", "GB"}}
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ruleFor(entity string) *finding.Rule {
	for _, e := range entities {
		if e.name == entity {
			return e.rule
		}
	}
	return nil
}

type span struct{ start, end int }

// parseMarked strips ⟦ ⟧ markers from a line and returns the text and the
// marked spans.
func parseMarked(line string) (string, []span) {
	var b strings.Builder
	var spans []span
	for {
		i := strings.Index(line, "⟦")
		if i < 0 {
			b.WriteString(line)
			return b.String(), spans
		}
		b.WriteString(line[:i])
		line = line[i+len("⟦"):]
		j := strings.Index(line, "⟧")
		start := b.Len()
		b.WriteString(line[:j])
		spans = append(spans, span{start, b.Len()})
		line = line[j+len("⟧"):]
	}
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPositives reads testdata/positives.txt.
func TestPositives(t *testing.T) {
	d := newDetector(t, nil)
	lines := readLines(t, "testdata/positives.txt")
	if len(lines) < 25 {
		t.Fatalf("only %d positives", len(lines))
	}
	for _, line := range lines {
		entity, marked, _ := strings.Cut(line, "\t")
		rule := ruleFor(entity)
		if rule == nil {
			t.Fatalf("unknown entity in %q", line)
		}
		text, want := parseMarked(marked)
		var got []span
		for _, h := range mustDetect(t, d, text) {
			if h.Rule != rule {
				t.Errorf("%q: unexpected %s at %q", text, h.Rule.ID, text[h.Start:h.End])
				continue
			}
			got = append(got, span{h.Start, h.End})
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %s at %v, want %v", text, entity, got, want)
		}
		checkContract(t, d, text, cutsFor(text))
	}
}

// TestGenerated checks values from piitest in varied surroundings.
func TestGenerated(t *testing.T) {
	d := newDetector(t, nil)
	g := piitest.New(1)
	for i := 0; i < 200; i++ {
		var v, entity string
		switch i % 8 {
		case 0:
			v, entity = g.Card("4", 16), "credit_card"
		case 1:
			v, entity = piitest.Group(g.Card("5"+string(rune('1'+g.Intn(5))), 16), " "), "credit_card"
		case 2:
			v, entity = g.Card("3"+string("47"[g.Intn(2)]), 15), "credit_card"
		case 3:
			v, entity = g.Card("62", 16+g.Intn(4)), "credit_card"
		case 4:
			v, entity = g.IBAN([]string{"DE", "GB", "FR", "ES", "NL"}[g.Intn(5)], 22), "iban"
			if strings.HasPrefix(v, "FR") {
				v = g.IBAN("FR", 27)
			} else if strings.HasPrefix(v, "ES") {
				v = g.IBAN("ES", 24)
			} else if strings.HasPrefix(v, "NL") {
				v = g.IBAN("NL", 18)
			}
		case 5:
			v, entity = g.Email(), "email"
		case 6:
			v, entity = g.SSN(), "us_ssn"
		case 7:
			v, entity = g.PublicIPv4(), "ip_address"
		}
		before := []string{"", "value ", "(", "\"", "é "}[i%5]
		after := []string{"", " ok", ")", "\".", " 🎉"}[i%5]
		text := before + v + after
		hits := mustDetect(t, d, text)
		if len(hits) != 1 || hits[0].Rule != ruleFor(entity) || hits[0].Start != len(before) || hits[0].End != len(before)+len(v) {
			t.Fatalf("%q: hits %+v, want one %s", text, hits, entity)
		}
	}
}

func TestNegatives(t *testing.T) {
	d := newDetector(t, nil)
	for _, line := range readLines(t, "testdata/negatives.txt") {
		if hits := mustDetect(t, d, line); len(hits) > 0 {
			for _, h := range hits {
				t.Errorf("%q: hit %s at %q", line, h.Rule.ID, line[h.Start:h.End])
			}
		}
	}
}

func TestValidators(t *testing.T) {
	for _, tc := range []struct {
		n    string
		want bool
	}{
		{"4111111111111111", true}, {"4111111111111112", false},
		{"2221000000000009", true}, {"2720990000000007", true}, // Mastercard 2-series bounds
		{"2220990000000005", false}, {"2721000000000004", false}, // just outside them
		{"378282246310005", true}, {"3782822463100050", false}, // Amex is 15 digits
		{"6011000990139424", true}, {"3530111333300000", true},
		{"36227206271667", true}, {"6200000000000005", true},
		{"1234567812345670", false}, // passes Luhn, no issuer
	} {
		d := []byte(tc.n)
		if got := luhn(d) && issuer(d); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		iban string
		want bool
	}{{"DE89370400440532013000", true}, {"DE89370400440532013001", false}, {"GB82WEST12345698765432", true}, {"GB82WEST12345698765433", false}} {
		if got := mod97([]byte(tc.iban)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.iban, got, tc.want)
		}
	}
	if piitest.IBANCheck("DE", "370400440532013000") != 89 {
		t.Error("piitest.IBANCheck disagrees with the example IBAN")
	}
}

func TestSSNRules(t *testing.T) {
	d := newDetector(t, nil)
	for _, tc := range []struct {
		text  string
		score float64 // 0: no hit
	}{
		{"SSN 536-22-1234", 0.95},
		{"record 536-22-1234", 0.7},
		{"SSN 536221234", 0.85},
		{"record 536221234", 0},
		{"SSN 536 22 1234", 0.85},
		{"SSN 000-22-1234", 0},
		{"SSN 666-22-1234", 0},
		{"SSN 912-22-1234", 0},
		{"SSN 536-00-1234", 0},
		{"SSN 536-22-0000", 0},
		{"SSN 078-05-1120", 0},
		{"SSN 536-22-12345", 0},
		{"SSN 536-22-1234-5", 0},
		{"SSN 536-22 1234", 0},
	} {
		hits := keep(mustDetect(t, d, tc.text), func(h detect.Hit) bool { return h.Rule == RuleSSN })
		switch {
		case tc.score == 0 && len(hits) > 0:
			t.Errorf("%q: hit %+v", tc.text, hits)
		case tc.score > 0 && (len(hits) != 1 || hits[0].Score != tc.score):
			t.Errorf("%q: hits %+v, want score %v", tc.text, hits, tc.score)
		}
	}
}

func TestOptions(t *testing.T) {
	text := "mail x@example.com card 4012 8888 8888 1881 ip 10.1.2.3 or 020 7946 0958"
	for _, tc := range []struct {
		name string
		opts map[string]any
		want []string
		err  string
	}{
		{"defaults", map[string]any{}, []string{"pii.email", "pii.credit-card", "pii.phone-number"}, ""},
		{"regions", map[string]any{"regions": []any{"gb"}}, []string{"pii.email", "pii.credit-card", "pii.phone-number"}, ""},
		{"other regions", map[string]any{"regions": []any{"us"}}, []string{"pii.email", "pii.credit-card"}, ""},
		{"entities", map[string]any{"entities": []any{"credit_card"}}, []string{"pii.credit-card"}, ""},
		{"entities by rule id", map[string]any{"entities": []any{"pii.email"}}, []string{"pii.email"}, ""},
		{"private ips", map[string]any{"entities": "ip_address", "include_private_ip": true}, []string{"pii.ip-address"}, ""},
		{"unknown entity", map[string]any{"entities": []any{"passports"}}, nil, `unknown entity "passports"`},
		{"unknown region", map[string]any{"regions": []any{"XX"}}, nil, `unknown region "XX"`},
		{"bad bool", map[string]any{"include_private_ip": "yes"}, nil, `option "include_private_ip" is string, want true or false`},
		{"unknown option", map[string]any{"entity": "x"}, nil, `unknown option "entity"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range mustDetect(t, d, text) {
				got = append(got, h.Rule.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRegisteredAndRules(t *testing.T) {
	d, err := detect.Default.New("pii", map[string]any{"entities": []any{"email", "iban"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "pii" || !slices.Equal(d.Rules(), []*finding.Rule{RuleEmail, RuleIBAN}) {
		t.Fatalf("%s %v", d.Name(), d.Rules())
	}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "pii.") || r.Title == "" || r.Remediation == "" ||
			!slices.Contains(r.References.CWE, "CWE-359") || !slices.Contains(r.References.OWASP, "LLM02:2025") ||
			!slices.Contains(r.References.ATLAS, "AML.T0057") {
			t.Errorf("rule %+v", r)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Detect(ctx, detect.Input{Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// TestValidatorJS runs the card and IBAN validators over validator.js's
// test values (MIT; the card and IBAN rows are copied into testdata, see
// NOTICE) and checks that they agree on the values they are meant for.
func TestValidatorJS(t *testing.T) {
	f, err := os.Open("testdata/validatorjs-cards-iban.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := newDetector(t, map[string]any{"entities": []any{"credit_card", "iban"}})
	type row struct {
		Text, Label, Validator string
		Args                   json.RawMessage
	}
	var agree, total int
	var misses []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Validator != "isCreditCard" && r.Validator != "isIBAN" || r.Label == "invalid" && string(r.Args) != "null" {
			continue
		}
		hits := mustDetect(t, d, r.Text)
		got := len(hits) == 1 && hits[0].Start == 0 && hits[0].End == len(r.Text)
		total++
		if got == (r.Label == "valid") {
			agree++
		} else {
			misses = append(misses, r.Validator+" "+r.Label+" "+r.Text)
		}
	}
	t.Logf("agree on %d of %d; differ on %q", agree, total, misses)
	if total < 100 || float64(agree) < 0.9*float64(total) {
		t.Fatalf("agree on %d of %d", agree, total)
	}
}

var fillers = []string{
	"the", "card", "SSN", "phone", "call", "ip", "+", "+1", "(", ")", "-", ".", ",", "@", ":", "::", " ", "  ",
	"\n", "4111", "1111", "555", "0", "12", "1.2.3", "192.168", "2001:db8", "DE89", "GB", "x@y", "mail.example",
	".com", "é", "🎉", "order", "#", "Mr.", "born", "March", "Street", "Calle", "12", "DNI", "Name:", "José",
}

func randomText(r *rand.Rand, g *piitest.Gen) string {
	gens := []func() string{
		g.Email, g.SSN, g.PublicIPv4,
		func() string { return g.Card("4", 16) },
		func() string { return piitest.Group(g.Card("4", 16), []string{" ", "-"}[g.Intn(2)]) },
		func() string { return g.Card("37", 15) },
		func() string { return piitest.Group(g.IBAN("DE", 22), " ") },
		func() string { return g.IBAN("GB", 22) },
		func() string { return "+44 20 7946 0958" },
		func() string { return "(415) 555-2671" },
		func() string { return "2001:4860:4860::8888" },
		func() string { return "born on 12 March 1985" },
		func() string { return "DOB March 12, 1985" },
		func() string { return "Geburtsdatum 12.03.1985" },
		func() string { return "Mr. John Smith" },
		func() string { return "Julia Roberts" },
		func() string { return "my name is Ana María López" },
		func() string { return "221B Baker Street" },
		func() string { return "Calle Mayor 5" },
		func() string { return "12 rue de la Paix, Apt. 5" },
		func() string { return "DNI 12345678Z" },
		func() string { return "passport C01X00T47" },
		func() string { return "CPF 123.456.789-09" },
		func() string { return "DMLPRY77D15H501F" },
		func() string { return "Aadhaar 2984 4886 3364" },
	}
	var b strings.Builder
	for n := 3 + r.IntN(30); n > 0; n-- {
		if r.IntN(4) == 0 {
			s := gens[r.IntN(len(gens))]()
			if r.IntN(4) == 0 {
				s = s[:r.IntN(len(s)+1)]
			}
			b.WriteString(s)
		} else {
			b.WriteString(fillers[r.IntN(len(fillers))])
		}
	}
	return b.String()
}

func TestContractRandom(t *testing.T) {
	d := newDetector(t, nil)
	r := rand.New(rand.NewPCG(1, 2))
	n := 1500
	if testing.Short() {
		n = 50
	}
	for i := 0; i < n; i++ {
		text := randomText(r, piitest.New(uint64(i)))
		checkContract(t, d, text, cutsFor(text))
	}
}

func FuzzDetect(f *testing.F) {
	for _, l := range []string{
		"Contact jane.doe@example.com", "4012 8888 8888 1881", "SSN 536-22-1234", "DE89 3704 0044 0532 0130 00",
		"8.8.8.8 2001:4860:4860::8888", "+44 20 7946 0958 (415) 555-2671", "a@b.c@d.e", "::ffff:1.2.3.4",
	} {
		f.Add(l)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 20; i++ {
		f.Add(randomText(r, piitest.New(uint64(i))))
	}
	d := newDetector(f, nil)
	f.Fuzz(func(t *testing.T, text string) {
		cuts := []int{0, len(text) / 3, len(text) / 2, len(text) - 1, len(text)}
		if len(text) < 64 {
			cuts = cutsFor(text)
		}
		checkContract(t, d, text, cuts)
	})
}

func BenchmarkDetect(b *testing.B) {
	g := piitest.New(3)
	withHits := func(n int) string {
		text := secretstest.CleanText(n)
		parts := []string{g.Email(), piitest.Group(g.Card("4", 16), " "), "SSN " + g.SSN(), "call +44 20 7946 0958"}
		step := n / (len(parts) + 1)
		var sb strings.Builder
		at := 0
		for i, p := range parts {
			sb.WriteString(text[at:(i+1)*step] + " " + p + " ")
			at = (i + 1) * step
		}
		sb.WriteString(text[at:])
		return sb.String()
	}
	for _, tc := range []struct {
		name string
		opts map[string]any
		text string
		hits bool
	}{
		{"all/clean-1KB", nil, secretstest.CleanText(1 << 10), false},
		{"all/clean-8KB", nil, secretstest.CleanText(8 << 10), false},
		{"all/hits-1KB", nil, withHits(1 << 10), true},
		{"cards+emails/clean-1KB", map[string]any{"entities": []any{"credit_card", "email"}}, secretstest.CleanText(1 << 10), false},
		{"cards+emails/clean-8KB", map[string]any{"entities": []any{"credit_card", "email"}}, secretstest.CleanText(8 << 10), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := newDetector(b, tc.opts)
			if hs := mustDetect(b, d, tc.text); (len(hs) > 0) != tc.hits {
				b.Fatalf("benchmark text has hits %+v", hs)
			}
			in := detect.Input{Text: tc.text}
			ctx := context.Background()
			b.SetBytes(int64(len(tc.text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Detect(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
