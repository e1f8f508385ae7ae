// Package canary detects system-prompt leaks in model output: the
// per-request canary token the gateway adds to the system prompt, also when
// lightly obfuscated (spaced, punctuated or case-changed), and long word
// n-gram overlaps with the system prompt itself.
//
// It registers the detector type "canary" with detect.Default. The detector
// needs the request's context: the gateway binds it per request with
// ForRequest(system, token) (policy.RequestScoped). Standalone (rampart
// check, rampart eval) it takes that context from its options:
//
//	system_prompt: text  the system prompt to compare outputs with
//	token:         text  the canary token (at least 8 letters or digits)
//	min_words:     int   words in a row shared with the system prompt that
//	                     make a leak (default 8, at least 3); a system prompt
//	                     shorter than that leaks only when all of it (at
//	                     least 4 words) is repeated
//	max_gap:       int   bytes of separators allowed between two characters
//	                     of the token (default 4, enough for a space, a
//	                     dash or a zero-width space)
//
// Words are runs of Unicode letters and digits compared case-insensitively;
// punctuation, spacing and markup between them do not matter. Hits: rule
// canary.token (score 1.0) and canary.system-prompt-overlap (score 0.9),
// label "leak". The detector is a detect.Tallier, so streamed output is
// checked chunk by chunk without buffering; a leak is reported at the byte
// that completes it.
package canary

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "canary"

// Label is the label of every hit.
const Label = "leak"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

var refs = finding.References{
	OWASP: []string{"LLM07:2025"},
	ATLAS: []string{"AML.T0056"},
	CWE:   []string{"CWE-200"},
}

// The rules.
var (
	RuleToken = &finding.Rule{
		ID: "canary.token", Title: "Canary token of the system prompt in the output",
		Layer: finding.LayerOutput, Severity: finding.High, References: refs,
		Remediation: "The model repeated its system prompt: block the answer and harden the prompt against extraction.",
	}
	RuleOverlap = &finding.Rule{
		ID: "canary.system-prompt-overlap", Title: "Output repeats a long passage of the system prompt",
		Layer: finding.LayerOutput, Severity: finding.Medium, References: refs,
		Remediation: "The model quoted its system prompt: block or review the answer and keep secrets out of system prompts.",
	}
)

// Scores of the two rules.
const (
	ScoreToken   = 1.0
	ScoreOverlap = 0.9
)

const (
	defMinWords = 8
	defMaxGap   = 4
	minToken    = 8
	// maxWord bounds the bytes of one word that are hashed; longer words
	// are compared by their first maxWord bytes.
	maxWord = 64
)

// Detector finds leaks of one system prompt and canary token. It is safe
// for concurrent use.
type Detector struct {
	minWords int
	maxGap   int
	token    []byte // normalized: lower-case ASCII letters and digits
	n        int    // shingle length in words (0: no overlap check)
	top      uint64 // topPower(n)
	shingles map[uint64]struct{}
}

// New builds a detector from its options.
func New(opts map[string]any) (*Detector, error) {
	o := detect.Options(opts)
	if err := o.Check("system_prompt", "token", "min_words", "max_gap"); err != nil {
		return nil, err
	}
	d := &Detector{}
	var err error
	if d.minWords, err = o.Int("min_words", defMinWords); err != nil {
		return nil, err
	}
	if d.minWords < 3 {
		return nil, fmt.Errorf("option \"min_words\": %d is below 3", d.minWords)
	}
	if d.maxGap, err = o.Int("max_gap", defMaxGap); err != nil {
		return nil, err
	}
	sys, err := o.Strings("system_prompt")
	if err != nil || len(sys) > 1 {
		return nil, fmt.Errorf("option \"system_prompt\": want a string")
	}
	tok, err := o.Strings("token")
	if err != nil || len(tok) > 1 {
		return nil, fmt.Errorf("option \"token\": want a string")
	}
	var system, token string
	if len(sys) == 1 {
		system = sys[0]
	}
	if len(tok) == 1 {
		token = tok[0]
		if n := len(normalize(token)); n < minToken {
			return nil, fmt.Errorf("option \"token\": %d letters or digits; want at least %d", n, minToken)
		}
	}
	return d.bind(system, token), nil
}

// ForRequest returns a detector with the same settings for one request's
// system prompt and canary token (either may be empty). It implements
// policy.RequestScoped.
func (d *Detector) ForRequest(system, token string) detect.Detector {
	return d.bind(system, token)
}

func (d *Detector) bind(system, token string) *Detector {
	b := &Detector{minWords: d.minWords, maxGap: d.maxGap, token: normalize(token)}
	if len(b.token) < minToken {
		b.token = nil
	}
	words := wordHashes(system)
	n := min(b.minWords, len(words))
	if n >= 4 {
		b.n = n
		b.top = topPower(n)
		b.shingles = make(map[uint64]struct{}, len(words)-n+1)
		for i := 0; i+n <= len(words); i++ {
			b.shingles[shingle(words[i:i+n])] = struct{}{}
		}
	}
	return b
}

// Name returns "canary".
func (d *Detector) Name() string { return Type }

// Rules lists canary.token and canary.system-prompt-overlap.
func (d *Detector) Rules() []*finding.Rule { return []*finding.Rule{RuleToken, RuleOverlap} }

// Threshold is the detector's operating point: both rules score above it.
func (d *Detector) Threshold() float64 { return 0.5 }

// Detect returns the leaks in in.Text, ordered by Start.
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := d.newTally()
	hits := t.Add(in.Text)
	hits = append(hits, t.End()...)
	sortHits(hits)
	return hits, nil
}

// NewTally returns the running state for one stream.
func (d *Detector) NewTally() detect.Tally { return d.newTally() }

func (d *Detector) newTally() *tally {
	t := &tally{d: d}
	if d.n > 0 {
		t.words = make([]word, d.n)
	}
	if len(d.token) > 0 {
		t.chars = make([]char, len(d.token))
	}
	return t
}

func sortHits(hs []detect.Hit) {
	for i := 1; i < len(hs); i++ {
		for j := i; j > 0 && hs[j].Start < hs[j-1].Start; j-- {
			hs[j], hs[j-1] = hs[j-1], hs[j]
		}
	}
}

// normalize keeps the ASCII letters and digits of s, lower-cased.
func normalize(s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if c := lowerAlnum(s[i]); c != 0 {
			out = append(out, c)
		}
	}
	return out
}

// lowerAlnum returns c lower-cased when it is an ASCII letter or digit, else 0.
func lowerAlnum(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return c
	case c >= 'A' && c <= 'Z':
		return c + 'a' - 'A'
	}
	return 0
}

// FNV-1a.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// wordHashes hashes the words of s.
func wordHashes(s string) []uint64 {
	var out []uint64
	h, n := uint64(fnvOffset), 0
	for _, r := range s {
		if isWordRune(r) {
			if n < maxWord {
				h = hashRune(h, r)
			}
			n++
			continue
		}
		if n > 0 {
			out = append(out, h)
			h, n = fnvOffset, 0
		}
	}
	if n > 0 {
		out = append(out, h)
	}
	return out
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return lowerAlnum(byte(r)) != 0
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func hashRune(h uint64, r rune) uint64 {
	r = unicode.ToLower(r)
	for r != 0 {
		h ^= uint64(r & 0xff)
		h *= fnvPrime
		r >>= 8
	}
	return h
}

// shingleBase is the base of the polynomial rolling hash of shingles.
const shingleBase = 0x9E3779B97F4A7C15

// shingle combines word hashes in order: the sum of ws[i] times
// shingleBase^(len(ws)-1-i), modulo 2^64, so that a tally can roll it.
func shingle(ws []uint64) uint64 {
	var h uint64
	for _, w := range ws {
		h = h*shingleBase + w
	}
	return h
}

// topPower is shingleBase^(n-1) modulo 2^64.
func topPower(n int) uint64 {
	p := uint64(1)
	for i := 1; i < n; i++ {
		p *= shingleBase
	}
	return p
}

// DetectRow implements detect.RowDetector for labelled datasets: the row's
// "system" field (and "canary", the token, when present) bind the detector like
// ForRequest before it inspects in.Text.
func (d *Detector) DetectRow(ctx context.Context, in detect.Input, row map[string]json.RawMessage) ([]detect.Hit, error) {
	var system, token string
	for name, dst := range map[string]*string{"system": &system, "canary": &token} {
		if raw, ok := row[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return nil, fmt.Errorf("row field %q: %w", name, err)
			}
		}
	}
	if system == "" && token == "" {
		return d.Detect(ctx, in)
	}
	return d.bind(system, token).Detect(ctx, in)
}
