// Package length flags texts that are longer than a limit, in bytes and/or
// characters: an oversized prompt is a cost and denial-of-service vector,
// an oversized answer a sign of a runaway generation.
//
// It registers the detector type "length" with detect.Default. Options:
//
//	max_bytes: n  flag texts longer than n bytes
//	max_chars: n  flag texts longer than n characters (UTF-8 sequences)
//
// At least one must be set. A hit covers the whole text, [0, len(text)).
//
// Streaming: a length has no bounded span, so the detector is not a
// detect.Spanner; holding back "the longest a match can be" would mean
// holding back everything. It is a detect.Tallier instead: a stream feeds it
// every chunk and it reports as soon as the running length passes the limit,
// with the span [0, offset at which it passed). That text has already been
// released, so the hit can only block (end the stream), flag or log; it is
// never redacted. If the limit is never passed, the end of the stream
// reports nothing.
package length

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "length"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

// Rule is the one rule the detector reports.
var Rule = &finding.Rule{
	ID:          "length.too-long",
	Title:       "Text longer than the configured limit",
	Layer:       finding.LayerInferenceAPI,
	Severity:    finding.Medium,
	Remediation: "Reject or truncate oversized prompts and cap max_tokens on answers; review the caller if it keeps happening.",
	References: finding.References{
		OWASP: []string{"LLM10:2025"},
		ATLAS: []string{"AML.T0029"},
		CWE:   []string{"CWE-400"},
	},
}

// Label names the hit in redaction masks.
const Label = "TOO_LONG"

// Detector flags long texts. It is safe for concurrent use.
type Detector struct {
	maxBytes int // 0: no byte limit
	maxChars int // 0: no character limit
}

var (
	_ detect.Detector = (*Detector)(nil)
	_ detect.Tallier  = (*Detector)(nil)
)

// New builds a detector from its options (see the package comment).
func New(opts map[string]any) (*Detector, error) {
	o := detect.Options(opts)
	if err := o.Check("max_bytes", "max_chars"); err != nil {
		return nil, err
	}
	mb, err := o.Int("max_bytes", 0)
	if err != nil {
		return nil, err
	}
	mc, err := o.Int("max_chars", 0)
	if err != nil {
		return nil, err
	}
	if mb == 0 && mc == 0 {
		return nil, fmt.Errorf("set max_bytes or max_chars (or both) to a positive limit")
	}
	return &Detector{maxBytes: mb, maxChars: mc}, nil
}

// Name returns "length".
func (d *Detector) Name() string { return Type }

// Rules returns the detector's one rule.
func (d *Detector) Rules() []*finding.Rule { return []*finding.Rule{Rule} }

// Detect reports one hit over the whole text when it is over a limit.
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	runes := 0
	if d.maxChars > 0 {
		runes = chars(in.Text)
	}
	if d.over(len(in.Text), runes) {
		return []detect.Hit{d.hit(len(in.Text))}, nil
	}
	return nil, nil
}

func (d *Detector) over(bytes, runes int) bool {
	return d.maxBytes > 0 && bytes > d.maxBytes || d.maxChars > 0 && runes > d.maxChars
}

func (d *Detector) hit(end int) detect.Hit {
	return detect.Hit{Rule: Rule, Start: 0, End: end, Score: 1, Label: Label}
}

// chars counts UTF-8 sequence starts: the characters of valid UTF-8, and
// the same count whichever way a text is cut into chunks. It counts the
// continuation bytes (10xxxxxx) eight bytes at a time.
func chars(s string) int {
	cont, i := 0, 0
	for ; i+8 <= len(s); i += 8 {
		v := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		cont += bits.OnesCount64(v &^ (v << 1) & 0x8080808080808080)
	}
	for ; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			cont++
		}
	}
	return len(s) - cont
}

// NewTally returns a running count for one stream.
func (d *Detector) NewTally() detect.Tally { return &tally{d: d} }

type tally struct {
	d        *Detector
	bytes    int
	runes    int
	reported bool
}

// Add counts a chunk and reports once, when the stream first goes over a
// limit.
func (t *tally) Add(chunk string) []detect.Hit {
	t.bytes += len(chunk)
	if t.reported {
		return nil
	}
	if t.d.maxChars > 0 {
		t.runes += chars(chunk)
	}
	if !t.d.over(t.bytes, t.runes) {
		return nil
	}
	t.reported = true
	return []detect.Hit{t.d.hit(t.bytes)}
}

// End reports nothing: a stream over a limit was reported when it passed it.
func (t *tally) End() []detect.Hit { return nil }
