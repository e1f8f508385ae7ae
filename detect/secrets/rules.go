package secrets

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/rampartsec/rampart/finding"
)

//go:embed rules.yaml
var rulesYAML []byte

// ruleFile is the layout of rules.yaml.
type ruleFile struct {
	Rules []ruleSpec `yaml:"rules"`
}

// ruleSpec is one rule as written in rules.yaml.
type ruleSpec struct {
	// ID is the rule id without the "secrets." prefix.
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	// Severity is a finding severity name: medium, high or critical.
	Severity string `yaml:"severity"`
	// Label names the secret in redaction masks, e.g. "GROQ_API_KEY".
	Label string `yaml:"label"`
	// Family groups rules by provider for the evaluation report.
	Family string `yaml:"family"`
	// Kind is "key" for private keys (adds CWE-321), else a credential.
	Kind string `yaml:"kind"`
	// Keywords are literals, matched case-insensitively, one of which
	// every match contains or follows (the Aho-Corasick prefilter).
	Keywords []string `yaml:"keywords"`
	// Scanner names the hand-written scanner that implements the rule;
	// rules without one have a Pattern.
	Scanner string `yaml:"scanner"`
	// Pattern is an RE2 expression run only in a window around a keyword
	// hit; the first of its capture groups that took part in a match is the
	// secret (alternatives each capture their own), else the whole match.
	Pattern string `yaml:"pattern"`
	// Entropy is the minimum Shannon entropy of the secret, bits per byte.
	Entropy float64 `yaml:"entropy"`
	// Validate names a check in code the secret must pass (see validators).
	Validate string `yaml:"validate"`
	// Context is how many bytes after the keyword the window reaches
	// (default: the longest secret the pattern allows is not known, so 128).
	Context int `yaml:"context"`
	// Before is how many bytes before the keyword the window reaches
	// (default 1: enough for \b).
	Before int `yaml:"before"`
	// Score is the hit's score (default 0.9).
	Score float64 `yaml:"score"`
	// Examples must each give a hit of this rule; Negatives must give no
	// hit at all.
	Examples  []string `yaml:"examples"`
	Negatives []string `yaml:"negatives"`
}

// Bounds on rules.yaml values, which also bound the detector's MaxSpan and
// LookBehind.
const (
	maxKeyword = 32
	maxContext = 160
	maxBefore  = 64
	// maxExtend is how far past its nominal end a window grows to reach the
	// end of the token it cuts.
	maxExtend = 96
	// maxRegexRules bounds the rules with patterns (per-scan state is an
	// array).
	maxRegexRules = 128
)

// regexRule is a compiled pattern rule.
type regexRule struct {
	idx      int // index into loaded.rules
	spec     int // index into loaded.specs
	re       *regexp.Regexp
	groups   int // capture groups: the first that took part is the secret (none: the whole match)
	need     runNeed
	before   int
	context  int
	entropy  float64
	validate func(string) bool
	score    float64
}

// scanners are the hand-written code paths a rule may name, with the index
// of the rule variable they report.
var scanners = map[string]int{
	"openai": rOpenAI, "anthropic": rAnthropic, "aws-key-id": rAWSKeyID, "aws-secret": rAWSSecret,
	"google-api-key": rGCPAPIKey, "gcp-service-account": rGCPService, "azure-key": rAzure,
	"github": rGitHub, "gitlab": rGitLab, "slack": rSlack, "stripe": rStripe,
	"huggingface": rHuggingFace, "pem": rPrivateKey, "jwt": rJWT, "assignment": rGeneric,
	"url-password": rURLPassword, "rampart": rRampart,
}

// validators are the named checks a pattern rule may ask for.
var validators = map[string]func(string) bool{
	// random: mixed character classes and no runs (see looksRandom).
	"random": func(v string) bool { return looksRandom(v, 0) },
	// hex-random: a hex string that is not a run or a single repeated byte.
	"hex-random": func(v string) bool { return !hasRuns(v) && entropy(v) >= 3.0 },
}

// loaded is the parsed rule set.
type loaded struct {
	specs   []ruleSpec
	rules   []*finding.Rule // allRules order: the hand-written ones first
	labels  []string
	family  []string
	regexes []regexRule
	// keywords is the prefilter over the pattern rules' keywords.
	keywords *keywordSet
	// table is the scan loop's table for the anchors and keywords.
	table *[1 << 16]uint8
	// maxBefore is the longest window start before a keyword.
	maxBefore int
	// lookBehind is the detector's LookBehind.
	lookBehind int
}

var validID = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// decodeRules decodes a rules file strictly. The YAML decoder is
// third-party code that panics on some malformed documents (found by
// FuzzLoadRules); a bug in it must give an error, not bring the process
// down.
func decodeRules(data []byte, f *ruleFile) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML decoder failed on this input: %v", r)
		}
	}()
	return yaml.UnmarshalWithOptions(data, f, yaml.Strict())
}

// loadRules parses and checks a rules file. builtin are the hand-written
// rules, indexed as in scanners; their metadata is taken from the file.
func loadRules(data []byte, builtin []*finding.Rule) (*loaded, error) {
	var f ruleFile
	if err := decodeRules(data, &f); err != nil {
		return nil, fmt.Errorf("rules file: %w", err)
	}
	if len(f.Rules) == 0 {
		return nil, errors.New("rules file: no rules")
	}
	l := &loaded{
		rules:  make([]*finding.Rule, len(builtin)),
		labels: make([]string, len(builtin)),
		family: make([]string, len(builtin)),
	}
	seen := map[string]bool{}
	seenScanner := map[string]bool{}
	for i := range f.Rules {
		sp := &f.Rules[i]
		if err := checkSpec(sp); err != nil {
			return nil, fmt.Errorf("rules file: rule %d (%q): %w", i+1, sp.ID, err)
		}
		if seen[sp.ID] {
			return nil, fmt.Errorf("rules file: rule %d: duplicate id %q", i+1, sp.ID)
		}
		seen[sp.ID] = true
		sev, _ := finding.ParseSeverity(sp.Severity) // checked by checkSpec
		fam := credentials
		if sp.Kind == "key" {
			fam = keys
		}
		if sp.Scanner != "" {
			idx, ok := scanners[sp.Scanner]
			if !ok || idx >= len(builtin) {
				return nil, fmt.Errorf("rules file: rule %q: unknown scanner %q", sp.ID, sp.Scanner)
			}
			if seenScanner[sp.Scanner] {
				return nil, fmt.Errorf("rules file: rule %q: scanner %q is used twice", sp.ID, sp.Scanner)
			}
			seenScanner[sp.Scanner] = true
			r := builtin[idx]
			if r.ID != Type+"."+sp.ID {
				return nil, fmt.Errorf("rules file: rule %q: scanner %q reports %s", sp.ID, sp.Scanner, r.ID)
			}
			r.Title, r.Severity, r.References = sp.Title, sev, fam.References
			l.rules[idx], l.labels[idx], l.family[idx] = r, sp.Label, sp.Family
			continue
		}
		re, err := regexp.Compile(sp.Pattern)
		if err != nil {
			return nil, fmt.Errorf("rules file: rule %q: pattern: %w", sp.ID, err)
		}
		need, err := needOf(sp.Pattern)
		if err != nil {
			return nil, fmt.Errorf("rules file: rule %q: pattern: %w", sp.ID, err)
		}
		if len(l.regexes) == maxRegexRules {
			return nil, fmt.Errorf("rules file: more than %d pattern rules", maxRegexRules)
		}
		rr := regexRule{
			idx: len(l.rules), spec: i, re: re, groups: re.NumSubexp(), need: need, before: sp.Before, context: sp.Context,
			entropy: sp.Entropy, validate: validators[sp.Validate], score: sp.Score,
		}
		if rr.before == 0 {
			rr.before = 1
		}
		if rr.context == 0 {
			rr.context = 128
		}
		if rr.score == 0 {
			rr.score = 0.9
		}
		l.regexes = append(l.regexes, rr)
		l.rules = append(l.rules, fam.Rule(sp.ID, sp.Title, sev))
		l.labels = append(l.labels, sp.Label)
		l.family = append(l.family, sp.Family)
	}
	for i, r := range l.rules[:len(builtin)] {
		if r == nil {
			return nil, fmt.Errorf("rules file: no rule declares hand-written rule %s", builtin[i].ID)
		}
	}
	l.specs = f.Rules
	return l, nil
}

// checkSpec checks one rule's fields.
func checkSpec(sp *ruleSpec) error {
	switch {
	case !validID.MatchString(sp.ID):
		return errors.New("id must be lower-case words joined by '-'")
	case strings.TrimSpace(sp.Title) == "":
		return errors.New("missing title")
	case sp.Label == "" || strings.Trim(sp.Label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "":
		return errors.New("label must be upper-case letters, digits and '_'")
	case sp.Family == "":
		return errors.New("missing family")
	case sp.Kind != "" && sp.Kind != "key":
		return fmt.Errorf("kind %q: want \"key\" or nothing", sp.Kind)
	case len(sp.Keywords) == 0:
		return errors.New("no keywords")
	case len(sp.Examples) == 0:
		return errors.New("no examples (true cases)")
	case len(sp.Negatives) == 0:
		return errors.New("no negatives (false cases)")
	case (sp.Scanner == "") == (sp.Pattern == ""):
		return errors.New("want exactly one of scanner and pattern")
	case sp.Context < 0 || sp.Context > maxContext:
		return fmt.Errorf("context %d: want 0..%d", sp.Context, maxContext)
	case sp.Before < 0 || sp.Before > maxBefore:
		return fmt.Errorf("before %d: want 0..%d", sp.Before, maxBefore)
	case sp.Score < 0 || sp.Score > 1:
		return fmt.Errorf("score %v: want 0..1", sp.Score)
	case sp.Entropy < 0 || sp.Entropy > 8:
		return fmt.Errorf("entropy %v: want 0..8 bits per byte", sp.Entropy)
	}
	sev, err := finding.ParseSeverity(sp.Severity)
	if err != nil {
		return err
	}
	if sev < finding.Medium {
		return fmt.Errorf("severity %s: want medium or more", sev)
	}
	for _, k := range sp.Keywords {
		if len(k) < 3 || len(k) > maxKeyword {
			return fmt.Errorf("keyword %q: want 3..%d bytes", k, maxKeyword)
		}
		for i := 0; i < len(k); i++ {
			if k[i] <= ' ' || k[i] >= 0x7f {
				return fmt.Errorf("keyword %q: want printable ASCII without spaces", k)
			}
		}
	}
	if sp.Validate != "" {
		if _, ok := validators[sp.Validate]; !ok || sp.Scanner != "" {
			return fmt.Errorf("unknown validator %q for a pattern rule", sp.Validate)
		}
	}
	if sp.Scanner != "" && (sp.Entropy != 0 || sp.Context != 0 || sp.Before != 0 || sp.Score != 0) {
		return errors.New("entropy, context, before and score apply to pattern rules only")
	}
	return nil
}

// hasRuns reports five equal bytes in a row or a five-byte ascending or
// descending run.
func hasRuns(v string) bool {
	rep, asc, desc := 1, 1, 1
	for i := 1; i < len(v); i++ {
		rep, asc, desc = step(rep, v[i] == v[i-1]), step(asc, v[i] == v[i-1]+1), step(desc, v[i]+1 == v[i-1])
		if rep >= 5 || asc >= 5 || desc >= 5 {
			return true
		}
	}
	return false
}

func step(n int, more bool) int {
	if more {
		return n + 1
	}
	return 1
}

// placeholderMarks inside a pattern rule's secret mark an example value.
var placeholderMarks = [...]string{
	"xxxx", "****", "....", "…", "your", "example", "dummy", "sample", "placeholder", "redacted",
	"changeme", "insert", "replace", "fake", "test", "<", ">", "${", "{{", "%s",
}

// isPlaceholder reports whether v is a documented example or template
// rather than a secret.
func isPlaceholder(v string) bool {
	for _, p := range placeholderMarks {
		if containsFold(v, p) {
			return true
		}
	}
	return hasRuns(v)
}
