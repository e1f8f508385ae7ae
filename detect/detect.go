// Package detect defines the Detector interface that every detector family
// implements, and the registry the policy looks detectors up in.
//
// A detector takes text with its context and returns hits: byte spans with a
// score and the rule that matched. It never decides what happens; the policy
// does (block, redact, flag, log). The same detector serves every surface:
// gateway prompts and responses, training-data rows, repository files and
// red-team answers.
package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/rampartsec/rampart/finding"
)

// Role is the speaker of a piece of text.
type Role string

// The roles.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
	RoleDocument  Role = "document"
)

// Surface is where the text was found.
type Surface string

// The surfaces.
const (
	SurfacePrompt   Surface = "prompt"
	SurfaceResponse Surface = "response"
	SurfaceFile     Surface = "file"
	SurfaceDataset  Surface = "dataset"
)

// Input is a text to inspect with its context.
type Input struct {
	Text    string
	Role    Role
	Surface Surface
}

// Hit is one match: a half-open byte span of Input.Text, a score in [0, 1]
// and the rule that matched.
type Hit struct {
	Rule  *finding.Rule
	Start int
	End   int
	Score float64
	// Label is a short, non-secret name for what matched, used as the
	// replacement when the hit is redacted, e.g. "EMAIL" or "AWS_ACCESS_KEY".
	Label string
}

// Detector inspects text.
type Detector interface {
	// Name is the detector's registered name, e.g. "secrets".
	Name() string
	// Rules lists every rule the detector can report.
	Rules() []*finding.Rule
	// Detect returns the hits in in.Text, ordered by Start. It must be safe
	// for concurrent use and must not retain in.Text.
	Detect(ctx context.Context, in Input) ([]Hit, error)
}

// SortHits orders hits by Start, then End, then rule id: the order a
// detector's Detect returns them in.
func SortHits(hits []Hit) {
	slices.SortFunc(hits, func(a, b Hit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.End != b.End {
			return a.End - b.End
		}
		return strings.Compare(a.Rule.ID, b.Rule.ID)
	})
}

// Spanner is implemented by detectors whose matches are bounded in length.
// Streaming redaction holds back MaxSpan()-1 bytes so that a match can never
// straddle what has already been released. A detector that is not a Spanner
// is run on streamed output only once the stream has ended.
//
// MaxSpan bounds how far past a match's start the detector reads to decide
// it, not just the match: a match usually ends where the next byte shows it
// has ended, so MaxSpan is then the longest match plus one.
type Spanner interface {
	MaxSpan() int
}

// Replacer is implemented by detectors whose matches have a better
// replacement than a mask, one that keeps the harmless part of the match:
// the exfil detector keeps a link's text and drops its URL. Replacement
// returns what replaces text[h.Start:h.End] when a redact rule with the
// default (mask) style redacts it.
type Replacer interface {
	Replacement(text string, h Hit) string
}

// Factory builds a detector from its options (the detector's section of the
// config, already decoded from YAML into generic values).
type Factory func(opts map[string]any) (Detector, error)

// Registry maps detector type names to factories.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: make(map[string]Factory)}
}

// Register adds a factory. It panics on a duplicate name, which is a
// programming error.
func (r *Registry) Register(typ string, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.factories[typ]; dup {
		panic("detect: duplicate detector type " + typ)
	}
	r.factories[typ] = f
}

// New builds a detector of the named type.
func (r *Registry) New(typ string, opts map[string]any) (Detector, error) {
	r.mu.RLock()
	f, ok := r.factories[typ]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown detector type %q (known: %v)", typ, r.Types())
	}
	d, err := f(opts)
	if err != nil {
		return nil, fmt.Errorf("detector type %q: %w", typ, err)
	}
	return d, nil
}

// Types lists the registered type names, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.factories))
	for k := range r.factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Default is the registry the built-in detector families register with.
var Default = NewRegistry()

// LookBehinder is implemented by Spanners whose decision about a match at
// [Start, End) depends on text before Start (a word boundary, a context word
// such as "ssn" or "aws"). LookBehind bounds that dependence in bytes: the
// decision depends on nothing before Start-LookBehind(). A streaming
// redactor keeps that many already-released bytes as context. A Spanner that
// does not implement it is assumed to need MaxSpan() bytes.
type LookBehinder interface {
	LookBehind() int
}

// Holder is implemented by Spanners that can tell, for a text that may still
// grow, how much of its tail could change what they report. Hold returns an
// offset p such that appending any text to text would leave every hit with
// Start < p unchanged and add none there (len(text) when nothing needs
// holding back). A streaming redactor holds back from
// max(Hold(text), len(text)-(MaxSpan()-1)), so Hold may be conservative: it
// only ever saves latency.
type Holder interface {
	Hold(text string) int
}

// Tallier is implemented by detectors that judge a stream by running totals
// (its length, say) rather than by spans, and so can decide chunk by chunk
// without buffering. A streaming redactor feeds every chunk to the Tally;
// its hits are reported, never redacted: they cover text that has already
// been released, so the policy can only block, flag or log them.
type Tallier interface {
	NewTally() Tally
}

// Tally is the running state of a Tallier over one stream.
type Tally interface {
	// Add counts the next chunk and returns hits decided by it, in
	// whole-stream byte offsets. A hit is reported once.
	Add(chunk string) []Hit
	// End is called at the end of the stream and returns the remaining hits.
	End() []Hit
}

// Options is a detector's option map with typed getters that name the
// offending key in their errors. The zero value is an empty map.
type Options map[string]any

// Check returns an error naming the first key (in sorted order) that is not
// in known.
func (o Options) Check(known ...string) error {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, n := range known {
			if k == n {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("unknown option %q (known: %v)", k, known)
		}
	}
	return nil
}

// Strings returns the option as a list of strings; a single string counts as
// a list of one. A missing key gives nil.
func (o Options) Strings(key string) ([]string, error) {
	v, ok := o[key]
	if !ok || v == nil {
		return nil, nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []string:
		return append([]string(nil), v...), nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("option %q: element %d is %T, want a string", key, i, e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("option %q is %T, want a list of strings", key, v)
}

// Int returns the option as a non-negative integer, def when missing.
func (o Options) Int(key string, def int) (int, error) {
	v, ok := o[key]
	if !ok || v == nil {
		return def, nil
	}
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	case uint64:
		if v > 1<<62 {
			return 0, fmt.Errorf("option %q: %d is too large", key, v)
		}
		n = int64(v)
	case float64:
		if v != float64(int64(v)) {
			return 0, fmt.Errorf("option %q: %v is not a whole number", key, v)
		}
		n = int64(v)
	default:
		return 0, fmt.Errorf("option %q is %T, want an integer", key, v)
	}
	if n < 0 {
		return 0, fmt.Errorf("option %q: %d is negative", key, n)
	}
	if n > 1<<40 {
		return 0, fmt.Errorf("option %q: %d is too large", key, n)
	}
	return int(n), nil
}

// Bool returns the option as a boolean, def when missing.
func (o Options) Bool(key string, def bool) (bool, error) {
	v, ok := o[key]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("option %q is %T, want true or false", key, v)
	}
	return b, nil
}

// Number returns an option value as a float64 when it is a number: a
// float64 or float32 (as JSON and YAML decode them), or an int, int64 or
// uint64. Detectors check the range themselves.
func Number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return 0, false
}

// Thresholder is implemented by detectors that know their calibrated
// operating point: the score at or above which a text counts as flagged
// (`rampart check`, `rampart eval`). A detector that does not implement it
// is taken to flag at 0.5; see ThresholdOf.
type Thresholder interface {
	Threshold() float64
}

// DefaultThreshold is the operating point of a detector that is not a
// Thresholder.
const DefaultThreshold = 0.5

// ThresholdOf returns d's calibrated operating point: d.Threshold() when d
// is a Thresholder, DefaultThreshold otherwise.
func ThresholdOf(d Detector) float64 {
	if t, ok := d.(Thresholder); ok {
		return t.Threshold()
	}
	return DefaultThreshold
}

// RowDetector is implemented by detectors that need more of a labelled
// dataset row than its text, for example the canary detector, which reads
// the row's "system" field (the system prompt whose leak it looks for).
// `rampart eval` and `rampart check --jsonl` call DetectRow instead of
// Detect when a detector implements it, passing every field of the row as
// raw JSON; in.Text is the row's "text" field. Outside datasets (the
// gateway) only Detect is called.
type RowDetector interface {
	DetectRow(ctx context.Context, in Input, row map[string]json.RawMessage) ([]Hit, error)
}
