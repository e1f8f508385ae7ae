// Package osv matches package versions against known vulnerabilities in the
// Open Source Vulnerability (OSV) format: it loads OSV exports (a zip or a
// folder of OSV JSON or YAML files, such as osv.dev's per-ecosystem
// all.zip or the PyPA advisory database), keeps them in a small on-disk
// database, answers "which advisories affect name@version in this
// ecosystem" with the OSV schema's matching rules, optionally asks the
// OSV API instead, and turns matches into findings.
//
// See docs/scan/deps-osv.md for the database format and the matching
// semantics, including where they differ from osv-scanner.
package osv

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Vulnerability is one OSV record (OSV schema 1.x). Fields this package
// does not use are not kept.
type Vulnerability struct {
	SchemaVersion string   `json:"schema_version,omitempty"`
	ID            string   `json:"id"`
	Modified      string   `json:"modified,omitempty"`
	Published     string   `json:"published,omitempty"`
	Withdrawn     string   `json:"withdrawn,omitempty"`
	Aliases       []string `json:"aliases,omitempty"`
	Related       []string `json:"related,omitempty"`
	Summary       string   `json:"summary,omitempty"`
	// Details is long Markdown; the on-disk database drops it.
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a severity score: Type is CVSS_V2, CVSS_V3, CVSS_V4 or
// Ubuntu, Score the vector string.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Reference is a link about the vulnerability.
type Reference struct {
	Type string `json:"type,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Affected names one affected package and the versions of it affected.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies a package in an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// The range types of the OSV schema.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is a set of events over one version ordering.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one point of a range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// kind returns the event's kind and version, or "" if not exactly one
// field is set.
func (e Event) kind() (kind, v string) {
	n := 0
	for _, f := range []struct{ k, v string }{
		{"introduced", e.Introduced}, {"fixed", e.Fixed}, {"last_affected", e.LastAffected}, {"limit", e.Limit},
	} {
		if f.v != "" {
			kind, v = f.k, f.v
			n++
		}
	}
	if n != 1 {
		return "", ""
	}
	return kind, v
}

// Limits on one record, beyond the file size bound.
const (
	maxIDLen    = 256
	maxAffected = 10000
	maxVersions = 200000 // total explicit versions in a record
	maxEvents   = 100000 // total events in a record
	maxNameLen  = 1024
	maxVerLen   = 256
)

// Validate checks what matching relies on: an id, packages with an
// ecosystem and a name, known range types, and events with exactly one
// version each. It names the first problem found.
func (v *Vulnerability) Validate() error {
	if v.ID == "" || len(v.ID) > maxIDLen || strings.ContainsAny(v.ID, "\x00\n/\\") {
		return fmt.Errorf("bad or missing id %q", clip(v.ID))
	}
	if len(v.Affected) > maxAffected {
		return fmt.Errorf("%s: %d affected entries, more than %d", v.ID, len(v.Affected), maxAffected)
	}
	nv, ne := 0, 0
	for i, a := range v.Affected {
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			// Records about a bare repository (GIT ranges only) have no
			// package; they cannot match a package query and are kept as is.
			if a.Package.Ecosystem != "" || a.Package.Name != "" {
				return fmt.Errorf("%s: affected[%d]: package needs both ecosystem and name", v.ID, i)
			}
		}
		if len(a.Package.Name) > maxNameLen || len(a.Package.Ecosystem) > maxNameLen {
			return fmt.Errorf("%s: affected[%d]: package name too long", v.ID, i)
		}
		nv += len(a.Versions)
		for _, s := range a.Versions {
			if len(s) > maxVerLen {
				return fmt.Errorf("%s: affected[%d]: version longer than %d bytes", v.ID, i, maxVerLen)
			}
		}
		for j, r := range a.Ranges {
			switch r.Type {
			case RangeEcosystem, RangeSemver, RangeGit:
			default:
				return fmt.Errorf("%s: affected[%d].ranges[%d]: unknown range type %q", v.ID, i, j, clip(r.Type))
			}
			ne += len(r.Events)
			for k, e := range r.Events {
				kind, ver := e.kind()
				if kind == "" {
					return fmt.Errorf("%s: affected[%d].ranges[%d].events[%d]: want exactly one of introduced, fixed, last_affected, limit", v.ID, i, j, k)
				}
				if len(ver) > maxVerLen {
					return fmt.Errorf("%s: affected[%d].ranges[%d].events[%d]: version longer than %d bytes", v.ID, i, j, k, maxVerLen)
				}
			}
		}
	}
	if nv > maxVersions || ne > maxEvents {
		return fmt.Errorf("%s: %d versions and %d events, more than %d and %d", v.ID, nv, ne, maxVersions, maxEvents)
	}
	return nil
}

// Malicious reports whether the record is a known-malicious package report:
// an OSV "MAL-" id (the OpenSSF malicious-packages database), or a
// database_specific object carrying "malicious-packages-origins" or
// "malicious": true.
func (v *Vulnerability) Malicious() bool {
	if strings.HasPrefix(v.ID, "MAL-") {
		return true
	}
	for _, raw := range v.dbSpecifics() {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		if _, ok := m["malicious-packages-origins"]; ok {
			return true
		}
		if b, ok := m["malicious"]; ok && string(b) == "true" {
			return true
		}
	}
	return false
}

func (v *Vulnerability) dbSpecifics() []json.RawMessage {
	var out []json.RawMessage
	if len(v.DatabaseSpecific) > 0 {
		out = append(out, v.DatabaseSpecific)
	}
	for _, a := range v.Affected {
		for _, r := range []json.RawMessage{a.DatabaseSpecific, a.EcosystemSpecific} {
			if len(r) > 0 {
				out = append(out, r)
			}
		}
	}
	return out
}

func clip(s string) string { return clipN(s, 64) }

// clipN shortens s to at most n bytes on a UTF-8 boundary, marking the cut.
func clipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
