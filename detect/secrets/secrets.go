// Package secrets detects credentials in text: LLM provider keys (OpenAI,
// Anthropic, Hugging Face, Cohere, Mistral, Groq, Google AI, Azure OpenAI,
// OpenRouter, xAI, DeepSeek, Perplexity, Replicate, Together, Fireworks),
// cloud credentials (AWS key pairs, GCP service-account keys, Azure
// connection strings), GitHub, GitLab, Slack, Stripe, npm, PyPI, Twilio,
// SendGrid, Datadog, Pinecone and LangSmith tokens, PEM private keys, JWTs,
// passwords in assignments, comparisons, prose ("the password is '…'") and
// URLs, and Rampart's own API keys.
//
// It registers the detector type "secrets" with detect.Default. Options:
//
//	rules:   [ids]  only these rules ("secrets.github-token" or "github-token")
//	exclude: [ids]  all rules but these
//
// The rules are data: rules.yaml (embedded) gives every rule its id,
// title, severity, redaction label, keywords and true and false cases, and
// is checked when the package loads (New reports a broken file). The most
// common formats have hand-written anchored scanners (the rule names its
// scanner): the text is searched for the few bytes every such credential
// starts with or is keyed by ('-', '_', '=', ':', 'A', "eyJ"), and only
// around those does a rule look further. The other rules carry an RE2
// pattern: an Aho-Corasick automaton finds every rule keyword,
// case-insensitively, in one pass, and a rule's pattern runs only in a
// bounded window around a keyword of its own. Matches that look like
// placeholders (xxxx, YOUR_…, example, dummy, fake, ${…}, runs such as
// "aaaaa" or "12345") are not reported. A value assigned to a generic key
// (token, api_key, …) must look generated; a literal after a password-like
// key (quoted, a flag, an environment variable, a YAML value) and a
// password in a URL are reported whatever their entropy, unless they are
// references (env:NAME, $VAR), placeholders or code (cfg.password).
//
// Every rule's match is bounded (MaxSpan) and depends on at most
// LookBehind bytes before it, so the detector is safe to run on streamed
// text with the redact package.
package secrets

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "secrets"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

var refsCred = finding.References{
	OWASP: []string{"LLM02:2025"},
	ATLAS: []string{"AML.T0057"},
	CWE:   []string{"CWE-798"},
}

var refsKey = finding.References{
	OWASP: []string{"LLM02:2025"},
	ATLAS: []string{"AML.T0057"},
	CWE:   []string{"CWE-798", "CWE-321"},
}

const remRotate = "Revoke and rotate the credential, and keep credentials out of prompts, model context and training data."

// Credentials and private keys share the layer and remediation; their
// references differ.
var (
	credentials = finding.Family{Name: Type, Layer: finding.LayerOutput, Remediation: remRotate, References: refsCred}
	keys        = finding.Family{Name: Type, Layer: finding.LayerOutput, Remediation: remRotate, References: refsKey}
)

// The rules with hand-written scanners, in the order of the r* indices.
// Their titles and severities are set from rules.yaml at start-up.
var (
	RuleOpenAI      = credentials.Rule("openai-api-key", "OpenAI API key", finding.Critical)
	RuleAnthropic   = credentials.Rule("anthropic-api-key", "Anthropic API key", finding.Critical)
	RuleAWSKeyID    = credentials.Rule("aws-access-key", "AWS access key ID", finding.High)
	RuleAWSSecret   = credentials.Rule("aws-secret-key", "AWS secret access key", finding.Critical)
	RuleGCPAPIKey   = credentials.Rule("gcp-api-key", "Google Cloud API key", finding.High)
	RuleGCPService  = keys.Rule("gcp-service-account-key", "Google Cloud service-account private key", finding.Critical)
	RuleAzure       = credentials.Rule("azure-storage-key", "Azure storage account or shared access key", finding.Critical)
	RuleGitHub      = credentials.Rule("github-token", "GitHub token", finding.Critical)
	RuleGitLab      = credentials.Rule("gitlab-token", "GitLab personal access token", finding.Critical)
	RuleSlack       = credentials.Rule("slack-token", "Slack token", finding.High)
	RuleStripe      = credentials.Rule("stripe-key", "Stripe live secret or restricted key", finding.Critical)
	RuleHuggingFace = credentials.Rule("huggingface-token", "Hugging Face access token", finding.High)
	RulePrivateKey  = keys.Rule("private-key", "PEM private key", finding.Critical)
	RuleJWT         = credentials.Rule("jwt", "JSON Web Token", finding.Medium)
	RuleGeneric     = credentials.Rule("generic-assignment", "Password, secret or token assigned in code, configuration or prose", finding.High)
	RuleURLPassword = credentials.Rule("url-password", "Password in a URL", finding.High)
	RuleRampart     = credentials.Rule("rampart-api-key", "Rampart API key", finding.Critical)
)

// Indices of the hand-written rules in the rule set, used by the scanner
// to test whether a rule is on.
const (
	rOpenAI = iota
	rAnthropic
	rAWSKeyID
	rAWSSecret
	rGCPAPIKey
	rGCPService
	rAzure
	rGitHub
	rGitLab
	rSlack
	rStripe
	rHuggingFace
	rPrivateKey
	rJWT
	rGeneric
	rURLPassword
	rRampart
	numRules
)

var builtinRules = []*finding.Rule{
	RuleOpenAI, RuleAnthropic, RuleAWSKeyID, RuleAWSSecret, RuleGCPAPIKey, RuleGCPService,
	RuleAzure, RuleGitHub, RuleGitLab, RuleSlack, RuleStripe, RuleHuggingFace, RulePrivateKey,
	RuleJWT, RuleGeneric, RuleURLPassword, RuleRampart,
}

// ruleSet is the parsed rules.yaml; ruleSetErr is why it could not be
// loaded (New reports it).
var ruleSet, ruleSetErr = buildSet(rulesYAML)

// buildSet loads a rules file and compiles its keyword prefilter.
func buildSet(data []byte) (*loaded, error) {
	l, err := loadRules(data, builtinRules)
	if err != nil {
		return nil, err
	}
	var kws []keyword
	for i, rr := range l.regexes {
		for _, k := range l.specs[rr.spec].Keywords {
			kws = append(kws, keyword{text: strings.ToLower(k), rule: i})
		}
		l.maxBefore = max(l.maxBefore, rr.before)
		l.lookBehind = max(l.lookBehind, rr.before+maxKeyword+rr.context+maxExtend)
	}
	l.lookBehind = max(l.lookBehind, lookBehind)
	if len(kws) > 0 {
		ks, ok := newKeywordSet(kws)
		if !ok {
			return nil, fmt.Errorf("rules file: too many keywords for the prefilter")
		}
		l.keywords = ks
	}
	l.table = scanTable(l.keywords)
	return l, nil
}

// Rules returns every rule the detector family knows, in a fixed order:
// those with hand-written scanners first, then the pattern rules in the
// order of rules.yaml.
func Rules() []*finding.Rule {
	if ruleSet == nil {
		return append([]*finding.Rule(nil), builtinRules...)
	}
	return append([]*finding.Rule(nil), ruleSet.rules...)
}

// Detector finds credentials. It is safe for concurrent use.
type Detector struct {
	on         []bool
	anyPattern bool
	rules      []*finding.Rule
}

var (
	_ detect.Detector     = (*Detector)(nil)
	_ detect.Spanner      = (*Detector)(nil)
	_ detect.LookBehinder = (*Detector)(nil)
	_ detect.Holder       = (*Detector)(nil)
)

// New builds a detector from its options (see the package comment).
func New(opts map[string]any) (*Detector, error) {
	o := detect.Options(opts)
	if err := o.Check("rules", "exclude"); err != nil {
		return nil, err
	}
	only, err := o.Strings("rules")
	if err != nil {
		return nil, err
	}
	excl, err := o.Strings("exclude")
	if err != nil {
		return nil, err
	}
	if ruleSetErr != nil {
		return nil, ruleSetErr
	}
	d := &Detector{on: make([]bool, len(ruleSet.rules))}
	if only == nil {
		for i := range d.on {
			d.on[i] = true
		}
	}
	for _, id := range only {
		i, err := ruleIndex(id)
		if err != nil {
			return nil, fmt.Errorf("option \"rules\": %w", err)
		}
		d.on[i] = true
	}
	for _, id := range excl {
		i, err := ruleIndex(id)
		if err != nil {
			return nil, fmt.Errorf("option \"exclude\": %w", err)
		}
		d.on[i] = false
	}
	for i, r := range ruleSet.rules {
		if d.on[i] {
			d.rules = append(d.rules, r)
		}
	}
	for _, rr := range ruleSet.regexes {
		d.anyPattern = d.anyPattern || d.on[rr.idx]
	}
	return d, nil
}

func ruleIndex(id string) (int, error) {
	full := id
	if !strings.HasPrefix(full, Type+".") {
		full = Type + "." + id
	}
	for i, r := range ruleSet.rules {
		if r.ID == full {
			return i, nil
		}
	}
	ids := make([]string, len(ruleSet.rules))
	for i, r := range ruleSet.rules {
		ids[i] = r.ID
	}
	return 0, fmt.Errorf("unknown rule %q (known: %s)", id, strings.Join(ids, ", "))
}

// Threshold is the score at which a text counts as carrying a secret:
// every rule's hit scores at least 0.6, so any hit.
func (d *Detector) Threshold() float64 { return 0.5 }

// Name returns "secrets".
func (d *Detector) Name() string { return Type }

// Rules lists the enabled rules.
func (d *Detector) Rules() []*finding.Rule { return append([]*finding.Rule(nil), d.rules...) }

// MaxSpan is the longest a hit can be, plus the one byte after it that
// decides where it ends: a PEM private key or a JWT of up to 8 KiB.
func (d *Detector) MaxSpan() int { return maxSpan }

// LookBehind is how far before a hit its context can lie: the AWS key ID
// that makes a 40-character string an AWS secret key, the key name in an
// assignment, the JSON key of a service-account private key.
func (d *Detector) LookBehind() int { return ruleSet.lookBehind }

// Detect returns the credentials in in.Text, ordered by Start (then End).
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := scanner{text: in.Text, eof: true, set: ruleSet, on: d.on, anyPattern: d.anyPattern, pending: len(in.Text)}
	s.scan()
	detect.SortHits(s.hits)
	return dropGeneric(dedupe(s.hits)), nil
}

// Hold returns the offset from which text, if it grew, could still gain or
// change a hit: the start of the trailing run of non-space bytes (a
// credential or its anchor may be incomplete there) or of an earlier match
// that runs to the end of the text, such as a PEM key still missing its END
// line.
func (d *Detector) Hold(text string) int {
	s := scanner{text: text, eof: false, set: ruleSet, on: d.on, anyPattern: d.anyPattern, pending: len(text)}
	s.scan()
	return min(s.pending, trailingRun(text, maxSpan))
}

// trailingRun returns the start of the run of non-whitespace bytes that ends
// text, looking back at most limit bytes.
func trailingRun(text string, limit int) int {
	i := len(text)
	stop := max(len(text)-limit, 0)
	for i > stop && !isSpace(text[i-1]) {
		i--
	}
	return i
}

// dropGeneric removes generic-assignment hits that contain a hit of a
// specific rule ("api_key = sk-…"): the specific one names it better.
func dropGeneric(h []detect.Hit) []detect.Hit {
	if !slices.ContainsFunc(h, func(x detect.Hit) bool { return x.Rule == RuleGeneric }) {
		return h
	}
	out := make([]detect.Hit, 0, len(h))
	for i, g := range h {
		if g.Rule == RuleGeneric {
			covered := false
			for j := range h {
				if j != i && h[j].Rule != RuleGeneric && h[j].Start >= g.Start && h[j].End <= g.End {
					covered = true
					break
				}
			}
			if covered {
				continue
			}
		}
		out = append(out, g)
	}
	return out
}

// dedupe removes repeated hits (the same rule and span found from two
// anchors, such as an AWS secret key after both "aws" and a key ID) from
// sorted hits, keeping the higher score.
func dedupe(h []detect.Hit) []detect.Hit {
	out := h[:0]
	for _, x := range h {
		if k := len(out) - 1; k >= 0 && out[k].Rule == x.Rule && out[k].Start == x.Start && out[k].End == x.End {
			out[k].Score = max(out[k].Score, x.Score)
			continue
		}
		out = append(out, x)
	}
	return out
}
