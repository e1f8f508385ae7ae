// Package secretstest makes fake credentials in every format the secrets
// detector knows, for tests. They are built from a seeded random source at
// run time, so no credential-shaped string sits in the repository (and none
// is real).
package secretstest

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
)

const (
	base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64    = base62 + "+/"
	url64  = base62 + "-_"
	upperD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
)

// Gen makes fake credentials from a deterministic random source.
type Gen struct{ r *rand.Rand }

// New returns a generator seeded with seed.
func New(seed uint64) *Gen { return &Gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

// From returns n random bytes of alphabet, re-drawn until they look random
// (both cases and a digit where the alphabet has them, no runs).
func (g *Gen) From(alphabet string, n int) string {
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[g.r.IntN(len(alphabet))]
		}
		if plausible(string(b), alphabet) {
			return string(b)
		}
	}
}

func plausible(s, alphabet string) bool {
	need := func(set string) bool {
		return !strings.ContainsAny(alphabet, set) || strings.ContainsAny(s, set)
	}
	if !need("ABCDEFGHIJKLMNOPQRSTUVWXYZ") || !need("abcdefghijklmnopqrstuvwxyz") || len(s) >= 16 && !need(digits) {
		return false
	}
	for i := 4; i < len(s); i++ {
		if s[i] == s[i-1] && s[i] == s[i-2] && s[i] == s[i-3] {
			return false
		}
		if s[i] == s[i-1]+1 && s[i-1] == s[i-2]+1 && s[i-2] == s[i-3]+1 && s[i-3] == s[i-4]+1 {
			return false
		}
	}
	return true
}

// Intn returns a random int in [0, n).
func (g *Gen) Intn(n int) int { return g.r.IntN(n) }

// OpenAI returns a project key, "sk-proj-…".
func (g *Gen) OpenAI() string {
	return "sk-" + "proj-" + g.From(url64, 74) + "T3Blbk" + "FJ" + g.From(url64, 74)
}

// OpenAILegacy returns a legacy key, "sk-" and 48 base62 bytes.
func (g *Gen) OpenAILegacy() string {
	return "sk-" + g.From(base62, 20) + "T3Blbk" + "FJ" + g.From(base62, 20)
}

// Anthropic returns "sk-ant-api03-…".
func (g *Gen) Anthropic() string { return "sk-" + "ant-api03-" + g.From(url64, 93) + "AA" }

// AWSKeyID returns "AKIA…".
func (g *Gen) AWSKeyID() string { return "AK" + "IA" + g.From(upperD, 16) }

// AWSSecret returns a 40-byte AWS secret access key.
func (g *Gen) AWSSecret() string { return g.From(b64, 40) }

// GCPAPIKey returns "AIza…".
func (g *Gen) GCPAPIKey() string { return "AI" + "za" + g.From(url64, 35) }

// GitHub returns a classic token, "ghp_…".
func (g *Gen) GitHub() string { return "gh" + "p_" + g.From(base62, 36) }

// GitHubPAT returns a fine-grained token, "github_pat_…".
func (g *Gen) GitHubPAT() string {
	return "github" + "_pat_" + g.From(base62, 22) + "_" + g.From(base62, 59)
}

// GitLab returns "glpat-…".
func (g *Gen) GitLab() string { return "gl" + "pat-" + g.From(url64, 20) }

// Slack returns a bot token, "xoxb-…".
func (g *Gen) Slack() string {
	return "xo" + "xb-" + g.From(digits, 12) + "-" + g.From(digits, 13) + "-" + g.From(base62, 24)
}

// Stripe returns "sk_live_…".
func (g *Gen) Stripe() string { return "sk" + "_live_" + g.From(base62, 24) }

// HuggingFace returns "hf_…".
func (g *Gen) HuggingFace() string { return "h" + "f_" + g.From(letter, 34) }

// Rampart returns a Rampart API key.
func (g *Gen) Rampart() string { return "r" + "k_" + g.From(base62, 12) + "_" + g.From(base62, 40) }

// AzureKey returns an 88-byte storage account key.
func (g *Gen) AzureKey() string { return g.From(b64, 86) + "==" }

// AzureConnectionString returns a storage connection string and its key.
func (g *Gen) AzureConnectionString() (string, string) {
	k := g.AzureKey()
	return "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" + k + ";EndpointSuffix=core.windows.net", k
}

// PEM returns an RSA private key of n body lines, with line breaks nl
// ("\n", or `\n` for one inside a JSON string).
func (g *Gen) PEM(n int, nl string) string {
	var b strings.Builder
	b.WriteString("-----BEGIN RSA " + "PRIVATE KEY-----")
	for i := 0; i < n; i++ {
		b.WriteString(nl)
		b.WriteString(g.From(b64, 64))
	}
	b.WriteString(nl + g.From(b64, 20) + "==")
	b.WriteString(nl + "-----END RSA " + "PRIVATE KEY-----")
	return b.String()
}

// JWT returns a signed-looking JSON Web Token.
func (g *Gen) JWT() string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := enc.EncodeToString([]byte(`{"sub":"` + g.From(digits, 10) + `","name":"Jane Doe","iat":1516239022}`))
	return h + "." + p + "." + g.From(url64, 43)
}

// Password returns a password of n printable bytes with mixed classes.
func (g *Gen) Password(n int) string {
	return g.From(base62+"!#%^*-_+", n)
}

// cleanParts are pieces of an ordinary prompt or answer: prose, code, JSON,
// numbers, URLs and identifiers, with nothing a detector should report.
var cleanParts = []string{
	"Can you help me refactor this function so that it handles errors properly? ",
	"The service reads its configuration at start-up and retries three times before giving up. ",
	"func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\tctx := r.Context()\n\tuser_id := r.URL.Query().Get(\"user_id\")\n}\n",
	"{\"model\": \"gpt-4o-mini\", \"temperature\": 0.2, \"max_tokens\": 512, \"stream\": true}\n",
	"See https://example.com/docs/getting-started#install for the details (section 3.2). ",
	"In 2023 the team shipped version 4.18.2; the next release, v5.0.0-rc.1, drops Python 3.8. ",
	"Step 1: install the package. Step 2: run `make test`. Step 3: open a pull request. ",
	"The invoice total was $1,249.50 for 37 items, due on 2024-03-15 at 17:30 UTC. ",
	"def tokenize(text: str) -> list[str]:\n    return [t for t in text.split() if t]\n",
	"Summarise the following meeting notes in five bullet points, keeping the action items. ",
	"The cache hit ratio dropped from 97.3% to 81.9% after the deploy, see dashboard panel 12. ",
	"SELECT id, name, created_at FROM users WHERE org_id = $1 ORDER BY created_at DESC LIMIT 50;\n",
	"Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the race in the worker pool. ",
	"Request 550e8400-e29b-41d4-a716-446655440000 timed out after 30s on node-7. ",
	"Translate into French: the weather is lovely today and we are going to the beach. ",
	"- item one\n- item two: with a colon\n- item three = with an equals sign\n",
}

// CleanText returns about n bytes of ordinary text with no secrets or
// personal data in it.
func CleanText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(cleanParts[(i*7)%len(cleanParts)])
	}
	return b.String()[:n]
}
