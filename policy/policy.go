// Package policy turns the policies of rampart.yaml into decisions: which
// detectors run on a request's input and on its output, with which
// threshold, and what happens on a hit — block, redact (mask, keyed hash or
// synthetic value), anonymize (a placeholder restored in the answer), flag
// or log. It also decides what happens when a detector fails: block (fail
// closed, the default) or allow.
package policy

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/rampartsec/rampart/anonymize"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/redact"
)

// Action is what a rule does on a hit. Actions are ordered: a request's
// decision is the strongest action among its hits.
type Action uint8

// The actions, weakest first.
const (
	None Action = iota
	Log
	Flag
	Redact
	// Anonymize replaces a match with a placeholder ("<EMAIL_1>") kept in
	// the request's vault, which the gateway restores in the answer.
	Anonymize
	Block
)

var actionNames = [...]string{"none", "log", "flag", "redact", "anonymize", "block"}

// String returns the action's name.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// ParseAction parses "block", "redact", "anonymize", "flag" or "log".
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames[1:] {
		if n == s {
			return Action(i + 1), nil
		}
	}
	return None, fmt.Errorf("unknown action %q (want block, redact, anonymize, flag or log)", s)
}

// Rule applies one detector instance.
type Rule struct {
	// Name is the detector instance's name in the config ("secrets").
	Name      string
	Detector  detect.Detector
	Action    Action
	Threshold float64
	// FailOpen lets a request through when the detector fails.
	FailOpen bool
	// Style is how a Redact rule replaces a match (Mask by default);
	// Anonymize rules use anonymize.Placeholder.
	Style anonymize.Style
}

// Replaces reports whether the rule's hits are replaced in the text.
func (r *Rule) Replaces() bool { return r.Action == Redact || r.Action == Anonymize }

// RequestScoped is implemented by detectors that judge an answer against
// its request, such as the canary detector: ForRequest returns the detector
// to use for one request, given the request's system prompt and the canary
// token the gateway added to it ("" when none).
type RequestScoped interface {
	ForRequest(system, canary string) detect.Detector
}

// ForRequest returns rules with every RequestScoped detector bound to the
// request; it returns rules itself when there is none.
func ForRequest(rules []*Rule, system, canary string) []*Rule {
	var out []*Rule
	for i, r := range rules {
		rs, ok := r.Detector.(RequestScoped)
		if !ok {
			continue
		}
		if out == nil {
			out = append([]*Rule(nil), rules...)
		}
		bound := *r
		bound.Detector = rs.ForRequest(system, canary)
		out[i] = &bound
	}
	if out == nil {
		return rules
	}
	return out
}

// Policy is a compiled policy.
type Policy struct {
	Name   string
	Routes []string
	Groups []string
	Input  []*Rule
	Output []*Rule
	// Canary is set when an output rule's detector is RequestScoped: the
	// gateway then adds a canary token to the request's system prompt.
	Canary bool
	// Anonymizes is set when an input rule anonymizes.
	Anonymizes bool
}

// Set is every policy of a configuration, in order.
type Set struct {
	Policies  []*Policy
	Detectors map[string]detect.Detector
	// Hasher renders the "hash" redaction style; Build gives it a random
	// key, which the caller replaces with the deployment's
	// (redaction.hash_key).
	Hasher *anonymize.Hasher
}

// NewSession returns the replacement state of one request.
func (s *Set) NewSession() *anonymize.Session {
	return anonymize.NewSession(s.Hasher)
}

// Build compiles cfg's detectors and policies with the detector types of
// reg.
func Build(cfg *config.Config, reg *detect.Registry) (*Set, error) {
	set := &Set{Detectors: make(map[string]detect.Detector, len(cfg.Detectors)), Hasher: anonymize.NewHasher(nil)}
	names := make([]string, 0, len(cfg.Detectors))
	for name := range cfg.Detectors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		dc := cfg.Detectors[name]
		d, err := reg.New(dc.Type, dc.Options)
		if err != nil {
			return nil, fmt.Errorf("detector %q: %w", name, err)
		}
		set.Detectors[name] = d
	}
	for i, pc := range cfg.Policies {
		p := &Policy{Name: pc.Name, Routes: pc.Routes, Groups: pc.Groups}
		if p.Name == "" {
			p.Name = fmt.Sprintf("policy-%d", i+1)
		}
		failOpen := pc.OnError == "allow"
		build := func(dir string, rules []config.Rule) ([]*Rule, error) {
			out := make([]*Rule, 0, len(rules))
			seen := make(map[string]bool, len(rules))
			for j, rc := range rules {
				if seen[rc.Detector] {
					return nil, fmt.Errorf("policy %q %s[%d]: detector %q is already used in this list", p.Name, dir, j, rc.Detector)
				}
				seen[rc.Detector] = true
				d, ok := set.Detectors[rc.Detector]
				if !ok {
					return nil, fmt.Errorf("policy %q %s[%d]: unknown detector %q", p.Name, dir, j, rc.Detector)
				}
				a, err := ParseAction(rc.Action)
				if err != nil {
					return nil, fmt.Errorf("policy %q %s[%d]: %w", p.Name, dir, j, err)
				}
				r := &Rule{Name: rc.Detector, Detector: d, Action: a, Threshold: detect.ThresholdOf(d), FailOpen: failOpen}
				if r.Style, err = anonymize.ParseStyle(rc.Redact); err != nil {
					return nil, fmt.Errorf("policy %q %s[%d]: %w", p.Name, dir, j, err)
				}
				if rc.Redact != "" && a != Redact {
					return nil, fmt.Errorf("policy %q %s[%d]: redact: %s needs action: redact", p.Name, dir, j, rc.Redact)
				}
				if a == Anonymize {
					if dir == "output" {
						return nil, fmt.Errorf("policy %q output[%d]: anonymize applies to input rules only", p.Name, j)
					}
					r.Style = anonymize.Placeholder
					p.Anonymizes = true
				}
				if _, ok := d.(RequestScoped); ok {
					if dir == "input" {
						return nil, fmt.Errorf("policy %q input[%d]: detector %q checks outputs; use it in output rules", p.Name, j, rc.Detector)
					}
					p.Canary = true
				}
				if rc.Threshold != nil {
					r.Threshold = *rc.Threshold
				}
				switch rc.OnError {
				case "allow":
					r.FailOpen = true
				case "block":
					r.FailOpen = false
				}
				out = append(out, r)
			}
			return out, nil
		}
		var err error
		if p.Input, err = build("input", pc.Input); err != nil {
			return nil, err
		}
		if p.Output, err = build("output", pc.Output); err != nil {
			return nil, err
		}
		set.Policies = append(set.Policies, p)
	}
	return set, nil
}

// Select returns the first policy that applies to route and group, or nil.
func (s *Set) Select(route, group string) *Policy {
	for _, p := range s.Policies {
		if matches(p.Routes, route) && matches(p.Groups, group) {
			return p
		}
	}
	return nil
}

func matches(patterns []string, v string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p == v || p == "*" {
			return true
		}
		if ok, _ := path.Match(p, v); ok {
			return true
		}
	}
	return false
}

// Hit is a detector hit that passed its rule's threshold.
type Hit struct {
	detect.Hit
	Rule *Rule
	// Text is the index of the text (in the slice given to Check) the hit
	// is in.
	Text int
}

// Outcome is the result of checking texts against rules.
type Outcome struct {
	// Action is the strongest action among the hits (None without hits).
	Action Action
	// Hits are every hit at or above its rule's threshold, by text.
	Hits []Hit
	// Blocked is the first hit of a blocking rule, when Action is Block
	// because of a hit.
	Blocked *Hit
	// Failed names the rule whose detector failed closed; Err is its error.
	Failed *Rule
	Err    error
	// Errors are detector failures that failed open (logged, not fatal).
	Errors []error
	// Redacted holds the new text of each text that has redactions, by
	// index; texts without redactions are absent.
	Redacted map[int]string
}

// ErrDetector wraps a detector failure that blocked a request.
var ErrDetector = errors.New("detector failed")

// Check runs rules over texts and decides. It stops at the first block.
// Hash, synthetic and anonymize replacements use a session of their own;
// CheckSession shares one across calls.
func Check(ctx context.Context, rules []*Rule, texts []detect.Input) Outcome {
	return CheckSession(ctx, rules, texts, nil)
}

// CheckSession is Check with the request's replacement session: the same
// value gets the same placeholder, hash or fake in every text checked with
// sess. A nil sess gets a fresh one when a rule needs it.
func CheckSession(ctx context.Context, rules []*Rule, texts []detect.Input, sess *anonymize.Session) Outcome {
	var out Outcome
	for ti, in := range texts {
		if in.Text == "" {
			continue
		}
		var redactHits []detect.Hit
		var redactRules []*Rule
		plain := true // every replacing rule masks
		for _, r := range rules {
			hits, err := r.Detector.Detect(ctx, in)
			if err != nil {
				err = fmt.Errorf("%w: %s: %w", ErrDetector, r.Name, err)
				if r.FailOpen {
					out.Errors = append(out.Errors, err)
					continue
				}
				out.Action = Block
				out.Failed = r
				out.Err = err
				return out
			}
			for _, h := range hits {
				if h.Score < r.Threshold {
					continue
				}
				out.Hits = append(out.Hits, Hit{Hit: h, Rule: r, Text: ti})
				if r.Action > out.Action {
					out.Action = r.Action
				}
				switch r.Action {
				case Block:
					if out.Blocked == nil {
						b := out.Hits[len(out.Hits)-1]
						out.Blocked = &b
					}
				case Redact, Anonymize:
					redactHits = append(redactHits, h)
					redactRules = append(redactRules, r)
					plain = plain && r.Style == anonymize.Mask && !replaces(r)
				}
			}
		}
		if out.Blocked != nil {
			return out
		}
		if len(redactHits) > 0 {
			if out.Redacted == nil {
				out.Redacted = make(map[int]string)
			}
			if plain {
				out.Redacted[ti] = redact.Apply(in.Text, redactHits, redact.StyleLabel)
				continue
			}
			if sess == nil {
				sess = anonymize.NewSession(nil)
			}
			out.Redacted[ti] = redact.ApplyFunc(in.Text, redactHits, func(i int, v string) string {
				return redactRules[i].Replace(sess, redactHits[i], v)
			})
		}
	}
	return out
}

// replaces reports whether r's detector renders its own replacement for the
// mask style (detect.Replacer).
func replaces(r *Rule) bool {
	_, ok := r.Detector.(detect.Replacer)
	return ok && r.Style == anonymize.Mask
}

// Replace renders what replaces value, the text of hit h, when r redacts or
// anonymizes it: the detector's own replacement for the mask style when it
// has one (a link's text without its URL), else sess's rendering of r's
// style. sess may be nil only when r's style is Mask.
func (r *Rule) Replace(sess *anonymize.Session, h detect.Hit, value string) string {
	if rep, ok := r.Detector.(detect.Replacer); ok && r.Style == anonymize.Mask {
		return rep.Replacement(value, detect.Hit{Rule: h.Rule, Start: 0, End: len(value), Score: h.Score, Label: h.Label})
	}
	if sess == nil {
		return redact.StyleLabel.Mask(h.Label)
	}
	return sess.Replace(r.Style, h.Label, value)
}
