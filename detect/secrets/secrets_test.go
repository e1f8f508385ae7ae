package secrets

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
	"github.com/rampartsec/rampart/finding"
)

func newDetector(t testing.TB, opts map[string]any) *Detector {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type positive struct {
	name   string
	before string
	value  string // the expected hit
	after  string
	rule   *finding.Rule
}

func positives() []positive {
	g := secretstest.New(42)
	_, azureKey := g.AzureConnectionString()
	pemJSON := g.PEM(4, `\n`)
	pemTrunc := strings.TrimSuffix(g.PEM(3, "\n"), "\n-----END RSA PRIVATE KEY-----")
	awsID := g.AWSKeyID()
	return []positive{
		{"openai project key", "export OPENAI_API_KEY=", g.OpenAI(), "\n", RuleOpenAI},
		{"openai legacy key", "key: '", g.OpenAILegacy(), "'", RuleOpenAI},
		{"openai service account", "use ", "sk-" + "svcacct-" + g.From(base62, 60), " here", RuleOpenAI},
		{"anthropic key", `client = Anthropic(api_key="`, g.Anthropic(), `")`, RuleAnthropic},
		{"aws key id", "aws_access_key_id = ", awsID, "\n", RuleAWSKeyID},
		{"aws secret after key id", awsID + "\t", "w" + g.AWSSecret()[1:], "\n", RuleAWSSecret},
		{"aws secret in prose", "my AWS secret key is ", g.AWSSecret(), ", keep it safe", RuleAWSSecret},
		{"aws secret assigned", "aws_secret_access_key = ", g.AWSSecret(), "\n", RuleAWSSecret},
		{"aws secret in json", `{"SecretAccessKey": "`, g.AWSSecret(), `"}`, RuleAWSSecret},
		{"gcp api key", "https://maps.googleapis.com/maps/api/js?key=", g.GCPAPIKey(), "&callback=init", RuleGCPAPIKey},
		{"gcp service account", `{"type": "service_account", "private_key": "`, pemJSON, `\n"}`, RuleGCPService},
		{"azure connection string", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=", azureKey, ";EndpointSuffix=core.windows.net", RuleAzure},
		{"azure shared access key", "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=", g.From(b64, 43) + "=", "", RuleAzure},
		{"github classic", "GITHUB_TOKEN=", g.GitHub(), "", RuleGitHub},
		{"github app", "token ", "gh" + "s_" + g.From(base62, 36), ".", RuleGitHub},
		{"github fine-grained", "", g.GitHubPAT(), " expires soon", RuleGitHub},
		{"gitlab", "PRIVATE-TOKEN: ", g.GitLab(), "", RuleGitLab},
		{"slack bot", "SLACK_BOT_TOKEN=", g.Slack(), "", RuleSlack},
		{"stripe live", "stripe.api_key = '", g.Stripe(), "'", RuleStripe},
		{"stripe restricted", "", "r" + "k_live_" + g.From(base62, 30), "", RuleStripe},
		{"hugging face", "HF_TOKEN=", g.HuggingFace(), "", RuleHuggingFace},
		{"pem", "```\n", g.PEM(5, "\n"), "\n```", RulePrivateKey},
		{"pem crlf", "", g.PEM(2, "\r\n"), "\r\n", RulePrivateKey},
		{"pem truncated", "the key:\n", pemTrunc, "\n\nThat is all I can show.", RulePrivateKey},
		{"openssh", "", "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n" + g.From(b64, 70) + "\n" + g.From(b64, 30) + "\n-----END OPENSSH PRIVATE KEY-----", "", RulePrivateKey},
		{"jwt", "Authorization: Bearer ", g.JWT(), "", RuleJWT},
		{"password assignment", `db_password = "`, g.Password(18), `"`, RuleGeneric},
		{"secret yaml", "client_secret: ", g.Password(24), "\n", RuleGeneric},
		{"token env", "export API_TOKEN=", g.From(base62, 32), "", RuleGeneric},
		{"bearer", "Authorization: Bearer ", g.From(base62, 40), "\r\n", RuleGeneric},
		{"url password", "postgres://app:", g.From(base62+"-_.!*", 14), "@db.internal:5432/prod", RuleURLPassword},
		{"rampart key", "RAMPART_KEY=", g.Rampart(), "", RuleRampart},
		{"at start and end", "", g.GitHub(), "", RuleGitHub},
		{"after unicode", "clé → ", g.Stripe(), " ✓", RuleStripe},
		{"in markdown code", "`", g.HuggingFace(), "`", RuleHuggingFace},
		{"in url query", "https://api.example.com/v1?token=", g.From(base62, 32), "&page=2", RuleGeneric},
	}
}

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const b64 = base62 + "+/"

func TestPositives(t *testing.T) {
	d := newDetector(t, nil)
	for _, tc := range positives() {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.before + tc.value + tc.after
			hits := mustDetect(t, d, text)
			start, end := len(tc.before), len(tc.before)+len(tc.value)
			found := false
			for _, h := range hits {
				if h.Rule == tc.rule && h.Start == start && h.End == end {
					found = true
				} else if h.Start < end && h.End > start && h.Rule != tc.rule {
					t.Errorf("also hit %s at %d-%d", h.Rule.ID, h.Start, h.End)
				}
			}
			if !found {
				t.Fatalf("want %s at %d-%d in %q, got %+v", tc.rule.ID, start, end, text, hits)
			}
			checkContract(t, d, text, cutsFor(text))
		})
	}
}

// TestNegatives reads testdata/negatives.txt: lines that must give no hit
// (a "#" line is a comment; "\n" in a line stands for a line break).
func TestNegatives(t *testing.T) {
	d := newDetector(t, nil)
	f, err := os.Open("testdata/negatives.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		text := strings.ReplaceAll(line, `\n`, "\n")
		if hits := mustDetect(t, d, text); len(hits) > 0 {
			h := hits[0]
			t.Errorf("%q: hit %s at %q", line, h.Rule.ID, text[h.Start:h.End])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// Built here so that no scanner mistakes the file for a leak.
	for _, text := range []string{
		"aws_access_key_id = AKIA" + "IOSFODNN7EXAMPLE",
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
		"sk-" + strings.Repeat("x", 48),
		"gh" + "p_" + strings.Repeat("X", 36),
		"AI" + "zaSy" + strings.Repeat("X", 33),
	} {
		n++
		if hits := mustDetect(t, d, text); len(hits) > 0 {
			t.Errorf("%q: hit %s", text, hits[0].Rule.ID)
		}
	}
	if n < 40 {
		t.Fatalf("only %d negatives", n)
	}
}

func TestGenericDefersToSpecific(t *testing.T) {
	g := secretstest.New(7)
	key := g.OpenAI()
	text := `api_key = "` + key + `"`
	hits := mustDetect(t, newDetector(t, nil), text)
	if len(hits) != 1 || hits[0].Rule != RuleOpenAI {
		t.Fatalf("hits %+v, want just the OpenAI key", hits)
	}
	// With the specific rule off, the generic one reports it.
	hits = mustDetect(t, newDetector(t, map[string]any{"exclude": []any{"openai-api-key"}}), text)
	if len(hits) != 1 || hits[0].Rule != RuleGeneric || hits[0].Label != "SECRET" {
		t.Fatalf("hits %+v, want the generic rule", hits)
	}
}

func TestOptions(t *testing.T) {
	g := secretstest.New(8)
	text := g.GitHub() + " " + g.Stripe() + " " + g.AWSKeyID()
	for _, tc := range []struct {
		name  string
		opts  map[string]any
		rules []string
		err   string
	}{
		{"all", nil, []string{"secrets.github-token", "secrets.stripe-key", "secrets.aws-access-key"}, ""},
		{"subset by full id", map[string]any{"rules": []any{"secrets.stripe-key"}}, []string{"secrets.stripe-key"}, ""},
		{"subset by short id", map[string]any{"rules": "github-token"}, []string{"secrets.github-token"}, ""},
		{"exclude", map[string]any{"exclude": []any{"github-token", "stripe-key"}}, []string{"secrets.aws-access-key"}, ""},
		{"unknown rule", map[string]any{"rules": []any{"nope"}}, nil, `option "rules": unknown rule "nope"`},
		{"unknown exclude", map[string]any{"exclude": []any{"nope"}}, nil, `option "exclude": unknown rule "nope"`},
		{"unknown option", map[string]any{"rule": []any{"x"}}, nil, `unknown option "rule"`},
		{"wrong type", map[string]any{"rules": 3}, nil, `option "rules" is int, want a list of strings`},
		{"wrong element", map[string]any{"rules": []any{"github-token", 3}}, nil, `option "rules": element 1 is int`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
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
			if strings.Join(got, ",") != strings.Join(tc.rules, ",") {
				t.Fatalf("rules hit %v, want %v", got, tc.rules)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	d, err := detect.Default.New("secrets", map[string]any{"rules": []any{"jwt"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "secrets" || len(d.Rules()) != 1 || d.Rules()[0] != RuleJWT {
		t.Fatalf("got %s with rules %v", d.Name(), d.Rules())
	}
}

func TestRuleMetadata(t *testing.T) {
	seen := map[string]bool{}
	for i, r := range Rules() {
		if !strings.HasPrefix(r.ID, "secrets.") || seen[r.ID] || r.Title == "" || r.Remediation == "" ||
			r.Layer != finding.LayerOutput || r.Severity < finding.Medium || ruleSet.labels[i] == "" {
			t.Errorf("rule %+v", r)
		}
		seen[r.ID] = true
		if !contains(r.References.OWASP, "LLM02:2025") || !contains(r.References.ATLAS, "AML.T0057") || !contains(r.References.CWE, "CWE-798") {
			t.Errorf("rule %s references %+v", r.ID, r.References)
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newDetector(t, nil).Detect(ctx, detect.Input{Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestHitsBounded(t *testing.T) {
	// A PEM key longer than the bound is cut at the bound, not missed.
	g := secretstest.New(9)
	long := g.PEM(200, "\n")
	hits := mustDetect(t, newDetector(t, nil), long)
	if len(hits) != 1 || hits[0].Start != 0 || hits[0].End != maxHit {
		t.Fatalf("hits %+v, want one of %d bytes", hits, maxHit)
	}
	// Over-long tokens are not keys.
	if hits := mustDetect(t, newDetector(t, nil), "gh"+"p_"+g.From(base62, 300)); len(hits) != 0 {
		t.Fatalf("hits %+v on a 300-byte token", hits)
	}
}

var fillers = []string{
	"the", "key", "is", "password:", "token=", "secret = ", "aws", "AKIA", "sk-", "sk-ant-", "ghp_", "github_pat_",
	"glpat-", "xoxb-", "hf_", "rk_", "sk_live_", "eyJ", ".", "-----BEGIN ", "RSA PRIVATE KEY-----", "-----END ",
	"\\n", "\n", "\r\n", " ", "  ", "\"", "'", ":", "=", "://", "@", "AccountKey=", "é", "🎉", "0123", "AbC9",
	"Authorization: Bearer ", "\"private_key\": \"", "gsk_", "cohere", "MISTRAL_API_KEY=", "azure openai ", "SG.",
	"https://hooks.slack.com/services/", "whsec_", "glptt-", "npm_", "twilio ", "datadog", "sk-or-v1-", "r8_", "pplx-",
	"xai-", "deepseek", "together", "fw_", "pcsk_", "lsv2_pt_", "api_org_", "\" +\n\"",
}

func randomText(r *rand.Rand, g *secretstest.Gen) string {
	gens := []func() string{
		g.OpenAI, g.OpenAILegacy, g.Anthropic, g.AWSKeyID, g.AWSSecret, g.GCPAPIKey, g.GitHub, g.GitHubPAT,
		g.GitLab, g.Slack, g.Stripe, g.HuggingFace, g.Rampart, g.JWT, g.AzureKey,
		func() string { return g.PEM(1+g.Intn(2), []string{"\n", `\n`, "\r\n"}[g.Intn(3)]) },
		func() string { return g.Password(8 + g.Intn(20)) },
		func() string { return g.From(b64, 40) },
		func() string {
			// A true case of some rule in rules.yaml.
			sp := ruleSet.specs[g.Intn(len(ruleSet.specs))]
			return sp.Examples[g.Intn(len(sp.Examples))]
		},
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

// TestContractRandom checks the streaming contract on random texts made of
// anchors, separators and real-looking keys, cut at every byte.
func TestContractRandom(t *testing.T) {
	d := newDetector(t, nil)
	r := rand.New(rand.NewPCG(1, 2))
	n := 400
	if testing.Short() {
		n = 60
	}
	for i := 0; i < n; i++ {
		text := randomText(r, secretstest.New(uint64(i)))
		checkContract(t, d, text, cutsFor(text))
	}
}

func FuzzDetect(f *testing.F) {
	g := secretstest.New(3)
	for _, p := range positives() {
		f.Add(p.before + p.value + p.after)
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 20; i++ {
		f.Add(randomText(r, g))
	}
	f.Add("-----BEGIN RSA PRIVATE KEY-----\\n\\r\\")
	for _, sp := range ruleSet.specs {
		for _, ex := range sp.Examples {
			f.Add(ex)
		}
	}
	f.Add("a=b:c://d:e@f")
	d := newDetector(f, nil)
	f.Fuzz(func(t *testing.T, text string) {
		cuts := []int{0, len(text) / 3, len(text) / 2, len(text) - 1, len(text)}
		if len(text) < 64 {
			cuts = cutsFor(text)
		}
		checkContract(t, d, text, cuts)
	})
}

func benchText(b *testing.B, n int, hits bool) string {
	text := secretstest.CleanText(n)
	if hits {
		g := secretstest.New(5)
		parts := []string{g.OpenAI(), g.AWSKeyID(), g.GitHub(), "password = \"" + g.Password(16) + "\""}
		step := n / (len(parts) + 1)
		var b strings.Builder
		at := 0
		for i, p := range parts {
			b.WriteString(text[at : (i+1)*step])
			b.WriteString(" " + p + " ")
			at = (i + 1) * step
		}
		b.WriteString(text[at:])
		text = b.String()
	}
	if hs := mustDetect(b, newDetector(b, nil), text); hits != (len(hs) > 0) {
		b.Fatalf("benchmark text has %d hits", len(hs))
	}
	return text
}

func BenchmarkDetect(b *testing.B) {
	d := newDetector(b, nil)
	for _, tc := range []struct {
		name string
		n    int
		hits bool
	}{{"clean-1KB", 1 << 10, false}, {"clean-8KB", 8 << 10, false}, {"hits-1KB", 1 << 10, true}, {"hits-8KB", 8 << 10, true}} {
		b.Run(tc.name, func(b *testing.B) {
			text := benchText(b, tc.n, tc.hits)
			in := detect.Input{Text: text}
			ctx := context.Background()
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Detect(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
