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
	"fmt"
	"sort"
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

// Spanner is implemented by detectors whose matches are bounded in length.
// Streaming redaction holds back MaxSpan()-1 bytes so that a match can never
// straddle what has already been released. A detector that is not a Spanner
// is run on streamed output only once the stream has ended.
type Spanner interface {
	MaxSpan() int
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
