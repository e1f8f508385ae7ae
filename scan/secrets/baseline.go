package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// baselineVersion is the format version WriteBaseline writes and
// LoadBaseline accepts.
const baselineVersion = 1

// maxBaselineSize bounds the baseline file LoadBaseline reads.
const maxBaselineSize = 64 << 20

// Baseline is a set of accepted findings, identified by fingerprint. A nil
// *Baseline accepts nothing.
type Baseline struct {
	set map[string]struct{}
}

// baselineFile is the JSON form of a baseline. The rule id, path and commit
// are kept for the reader reviewing the file; only fingerprints count.
type baselineFile struct {
	Version  int             `json:"version"`
	Tool     string          `json:"tool"`
	Accepted []baselineEntry `json:"accepted"`
}

type baselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	RuleID      string `json:"rule_id,omitempty"`
	Path        string `json:"path,omitempty"`
	Line        int    `json:"line,omitempty"`
	Commit      string `json:"commit,omitempty"`
}

// NewBaseline returns a baseline accepting the given findings.
func NewBaseline(fs []finding.Finding) *Baseline {
	b := &Baseline{set: make(map[string]struct{}, len(fs))}
	for _, f := range fs {
		if f.Fingerprint != "" {
			b.set[f.Fingerprint] = struct{}{}
		}
	}
	return b
}

// Contains reports whether fingerprint is accepted.
func (b *Baseline) Contains(fingerprint string) bool {
	if b == nil {
		return false
	}
	_, ok := b.set[fingerprint]
	return ok
}

// Len returns the number of accepted fingerprints.
func (b *Baseline) Len() int {
	if b == nil {
		return 0
	}
	return len(b.set)
}

// Filter returns the findings of fs that b does not accept, reusing fs's
// backing array.
func (b *Baseline) Filter(fs []finding.Finding) []finding.Finding {
	if b.Len() == 0 {
		return fs
	}
	return slices.DeleteFunc(fs, func(f finding.Finding) bool { return b.Contains(f.Fingerprint) })
}

// WriteBaseline writes a baseline accepting fs to path (JSON, one entry per
// distinct fingerprint, sorted, so the file diffs well). It never writes a
// secret: only the fingerprint, rule id, path, line and commit.
func WriteBaseline(path string, fs []finding.Finding) error {
	var buf bytes.Buffer
	if err := EncodeBaseline(&buf, fs); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	return nil
}

// EncodeBaseline writes the JSON baseline of fs to w (see WriteBaseline).
func EncodeBaseline(w io.Writer, fs []finding.Finding) error {
	seen := make(map[string]bool, len(fs))
	bf := baselineFile{Version: baselineVersion, Tool: "rampart scan secrets", Accepted: []baselineEntry{}}
	for _, f := range fs {
		if f.Fingerprint == "" || seen[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
		bf.Accepted = append(bf.Accepted, baselineEntry{
			Fingerprint: f.Fingerprint, RuleID: f.RuleID, Path: f.Location.Path,
			Line: f.Location.Line, Commit: f.Location.Commit,
		})
	}
	slices.SortFunc(bf.Accepted, func(a, b baselineEntry) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(a.RuleID, b.RuleID); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(bf); err != nil {
		return fmt.Errorf("encode baseline: %w", err)
	}
	return nil
}

// LoadBaseline reads a baseline written by WriteBaseline.
func LoadBaseline(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	defer f.Close()
	b, err := DecodeBaseline(f)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return b, nil
}

// DecodeBaseline reads a JSON baseline from r (at most 64 MiB).
func DecodeBaseline(r io.Reader) (*Baseline, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBaselineSize+1))
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	if len(data) > maxBaselineSize {
		return nil, fmt.Errorf("baseline larger than %d bytes", maxBaselineSize)
	}
	var bf baselineFile
	if err := json.Unmarshal(data, &bf); err != nil {
		return nil, fmt.Errorf("decode baseline: %w", err)
	}
	if bf.Version != baselineVersion {
		return nil, fmt.Errorf("baseline version %d, want %d", bf.Version, baselineVersion)
	}
	b := &Baseline{set: make(map[string]struct{}, len(bf.Accepted))}
	for i, e := range bf.Accepted {
		if e.Fingerprint == "" {
			return nil, fmt.Errorf("baseline entry %d has no fingerprint", i)
		}
		b.set[e.Fingerprint] = struct{}{}
	}
	return b, nil
}
