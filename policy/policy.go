// Package policy turns the policies of rampart.yaml into decisions: which
// detectors run on a request's input and on its output, with which
// threshold, and what happens on a hit — block, redact, flag or log. It
// also decides what happens when a detector fails: block (fail closed, the
// default) or allow.
package policy

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"

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
	Block
)

var actionNames = [...]string{"none", "log", "flag", "redact", "block"}

// String returns the action's name.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// ParseAction parses "block", "redact", "flag" or "log".
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames[1:] {
		if n == s {
			return Action(i + 1), nil
		}
	}
	return None, fmt.Errorf("unknown action %q (want block, redact, flag or log)", s)
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
}

// Policy is a compiled policy.
type Policy struct {
	Name   string
	Routes []string
	Groups []string
	Input  []*Rule
	Output []*Rule
}

// Set is every policy of a configuration, in order.
type Set struct {
	Policies  []*Policy
	Detectors map[string]detect.Detector
}

// Build compiles cfg's detectors and policies with the detector types of
// reg.
func Build(cfg *config.Config, reg *detect.Registry) (*Set, error) {
	set := &Set{Detectors: make(map[string]detect.Detector, len(cfg.Detectors))}
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
				r := &Rule{Name: rc.Detector, Detector: d, Action: a, Threshold: 0.5, FailOpen: failOpen}
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
func Check(ctx context.Context, rules []*Rule, texts []detect.Input) Outcome {
	var out Outcome
	for ti, in := range texts {
		if in.Text == "" {
			continue
		}
		var redactHits []detect.Hit
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
				case Redact:
					redactHits = append(redactHits, h)
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
			out.Redacted[ti] = redact.Apply(in.Text, redactHits, redact.StyleLabel)
		}
	}
	return out
}
