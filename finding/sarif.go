package finding

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SARIF constants. The schema address is the one GitHub code scanning
// documents; the informationUri names the project.
const (
	SARIFSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	SARIFVersion = "2.1.0"
	// InformationURI is the tool's home page as SARIF reports it.
	InformationURI = "https://github.com/rampartsec/rampart"
	// SARIFFingerprintKey names Rampart's entry in a result's
	// partialFingerprints.
	SARIFFingerprintKey = "rampartFingerprint/v1"
	// GitHub cuts rule descriptions at 1024 characters.
	sarifMaxDescription = 1024
)

// securitySeverity is the GitHub "security-severity" score of each severity;
// GitHub buckets scores as critical (>= 9.0), high (7.0–8.9), medium
// (4.0–6.9) and low (0.1–3.9).
var securitySeverity = [Critical + 1]string{
	Info: "1.0", Low: "3.0", Medium: "5.5", High: "8.0", Critical: "9.5",
}

// sarifLevel maps a severity to a SARIF result level.
var sarifLevel = [Critical + 1]string{
	Info: "note", Low: "note", Medium: "warning", High: "error", Critical: "error",
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Properties  *sarifRunProps    `json:"properties,omitempty"`
	// Results is streamed after the rest (see openArray); it is only
	// decoded through this field.
	Results []sarifResult `json:"results,omitempty"`
}

type sarifRunProps struct {
	Command string   `json:"command,omitempty"`
	Targets []string `json:"targets,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	StartTimeUTC        string `json:"startTimeUtc,omitempty"`
	EndTimeUTC          string `json:"endTimeUtc,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Severity         string   `json:"severity"`
	Layer            int      `json:"layer"`
	LayerName        string   `json:"layerName"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations,omitempty"`
	PartialFingerprints sarifFingerprints `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifFingerprints struct {
	Rampart string `json:"rampartFingerprint/v1"`
}

type sarifResultProps struct {
	Severity   string  `json:"severity"`
	Confidence float64 `json:"confidence"`
	Layer      int     `json:"layer"`
	LayerName  string  `json:"layerName"`
	Excerpt    string  `json:"excerpt,omitempty"`
	Detector   string  `json:"detector,omitempty"`
	Commit     string  `json:"commit,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical  `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical  `json:"logicalLocations,omitempty"`
	Properties       *sarifSpanProps `json:"properties,omitempty"`
}

type sarifSpanProps struct {
	Span *Span `json:"span"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int    `json:"startLine,omitempty"`
	StartColumn int    `json:"startColumn,omitempty"`
	ByteOffset  *int64 `json:"byteOffset,omitempty"`
	ByteLength  *int64 `json:"byteLength,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

// WriteSARIF writes r as a SARIF 2.1.0 log with one run, in the subset that
// GitHub code scanning reads:
//
//   - tool.driver carries the name, version, informationUri and one rule per
//     rule id: the report's Rules, plus rules synthesised from the findings
//     for ids that Rules lacks, sorted by id. Each rule has a short and full
//     description, help (the remediation and reference links), a default
//     level and properties with tags (security, external/owasp-llm/…,
//     external/atlas/…, external/cwe/cwe-N) and GitHub's security-severity.
//   - Each finding is a result with ruleId, ruleIndex, a level (critical and
//     high are error, medium warning, low and info note), a message, a
//     location and partialFingerprints[SARIFFingerprintKey].
//   - A file location is a physicalLocation: the path as a relative URI
//     with each segment percent-escaped (absolute paths become file://
//     URIs), with startLine and startColumn when the line is known, else
//     byteOffset (the offset plus the span's start) and byteLength (the
//     span's length). Requests, fields and dataset rows are
//     logicalLocations; a span relative to one of them, or to a line, is
//     kept in the location's properties.
//   - Each result's properties carry the severity name, confidence, layer,
//     excerpt, detector and commit.
//
// Results are streamed, so a large report is not held in memory twice.
func WriteSARIF(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	fs := sorted(r)
	rules, index := sarifRules(r, fs)

	name := r.Tool
	if name == "" {
		name = "rampart"
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           name,
			Version:        r.Version,
			InformationURI: InformationURI,
			Rules:          rules,
		}},
	}
	if !r.Started.IsZero() {
		run.Invocations = []sarifInvocation{{
			ExecutionSuccessful: true,
			StartTimeUTC:        r.Started.UTC().Format(time.RFC3339Nano),
			EndTimeUTC:          r.Started.Add(r.Duration).UTC().Format(time.RFC3339Nano),
		}}
	}
	if r.Command != "" || len(r.Targets) > 0 {
		run.Properties = &sarifRunProps{Command: r.Command, Targets: r.Targets}
	}
	head, err := json.MarshalIndent(&sarifLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []sarifRun{run}}, "", "  ")
	if err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	bw := bufio.NewWriter(w)
	arr, err := openArray(bw, head, "\n    }\n  ]\n}", "results", 2)
	if err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	var res sarifResult
	for _, f := range fs {
		// GitHub shows the message as the alert's title and rejects
		// empty strings.
		msg := f.Message
		if strings.TrimSpace(msg) == "" {
			msg = f.Title
		}
		if strings.TrimSpace(msg) == "" {
			msg = f.RuleID
		}
		res = sarifResult{
			RuleID:              f.RuleID,
			RuleIndex:           index[f.RuleID],
			Level:               sarifLevel[f.Severity],
			Message:             sarifText{Text: msg},
			PartialFingerprints: sarifFingerprints{Rampart: fingerprintOf(f)},
			Properties: sarifResultProps{
				Severity:   f.Severity.String(),
				Confidence: f.Confidence,
				Layer:      int(f.Layer),
				LayerName:  f.Layer.String(),
				Excerpt:    f.Excerpt,
				Detector:   f.Detector,
				Commit:     f.Location.Commit,
			},
		}
		if loc, ok := sarifLocationOf(&f.Location); ok {
			res.Locations = []sarifLocation{loc}
		}
		if err := arr.add(&res); err != nil {
			return fmt.Errorf("write sarif report: %w", err)
		}
	}
	arr.close()
	return flush(bw, "sarif")
}

// sarifRules returns the driver's rules sorted by id and each id's index.
func sarifRules(r *Report, fs []*Finding) ([]sarifRule, map[string]int) {
	byID := make(map[string]*Rule, len(r.Rules))
	list := make([]*Rule, 0, len(r.Rules))
	for i := range r.Rules {
		ru := &r.Rules[i]
		if _, ok := byID[ru.ID]; !ok {
			byID[ru.ID] = ru
			list = append(list, ru)
		}
	}
	for _, f := range fs {
		if _, ok := byID[f.RuleID]; ok {
			continue
		}
		// fs is in report order, so a synthesised rule takes the highest
		// severity its findings have.
		ru := &Rule{
			ID: f.RuleID, Title: f.Title, Layer: f.Layer, Severity: f.Severity,
			Remediation: f.Remediation, References: f.References,
		}
		byID[ru.ID] = ru
		list = append(list, ru)
	}
	slices.SortFunc(list, func(a, b *Rule) int { return cmp.Compare(a.ID, b.ID) })

	index := make(map[string]int, len(list))
	out := make([]sarifRule, len(list))
	for i, ru := range list {
		index[ru.ID] = i
		out[i] = sarifRuleOf(ru)
	}
	return out, index
}

func sarifRuleOf(ru *Rule) sarifRule {
	title := ru.Title
	if strings.TrimSpace(title) == "" {
		title = ru.ID
	}
	full := fmt.Sprintf("%s (layer %d, %s).", strings.TrimRight(title, "."), int(ru.Layer), ru.Layer)
	links := referenceLinks(ru.References)

	var text, md strings.Builder
	if ru.Remediation != "" {
		text.WriteString(ru.Remediation)
		md.WriteString(markdownEscape(ru.Remediation))
	} else {
		text.WriteString(full)
		md.WriteString(markdownEscape(full))
	}
	helpURI := ""
	if len(links) > 0 {
		text.WriteString("\n\nReferences:")
		md.WriteString("\n\n**References:**")
		for i, l := range links {
			sep := " "
			if i > 0 {
				sep = ", "
			}
			text.WriteString(sep + l.Label)
			md.WriteString(sep)
			if l.URL != "" {
				if helpURI == "" {
					helpURI = l.URL
				}
				fmt.Fprintf(&md, "[%s](%s)", markdownEscape(l.Label), l.URL)
				text.WriteString(" (" + l.URL + ")")
			} else {
				md.WriteString(markdownEscape(l.Label))
			}
		}
		text.WriteString(".")
		md.WriteString(".")
	}

	return sarifRule{
		ID:                   ru.ID,
		ShortDescription:     sarifText{Text: clip(title, sarifMaxDescription)},
		FullDescription:      sarifText{Text: clip(full, sarifMaxDescription)},
		Help:                 sarifText{Text: text.String(), Markdown: md.String()},
		HelpURI:              helpURI,
		DefaultConfiguration: sarifConfig{Level: sarifLevel[ru.Severity]},
		Properties: sarifRuleProps{
			Tags:             sarifTags(ru.References),
			SecuritySeverity: securitySeverity[ru.Severity],
			Severity:         ru.Severity.String(),
			Layer:            int(ru.Layer),
			LayerName:        ru.Layer.String(),
		},
	}
}

// sarifTags are the rule's tags: "security" (which, with security-severity,
// makes GitHub treat the rule as a security rule) and one tag per reference.
func sarifTags(refs References) []string {
	tags := []string{"security"}
	add := func(t string) {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	for _, id := range refs.OWASP {
		add("external/owasp-llm/" + strings.TrimSpace(id))
	}
	for _, id := range refs.ATLAS {
		add("external/atlas/" + strings.TrimSpace(id))
	}
	for _, id := range refs.CWE {
		// GitHub recognises CWEs in CodeQL's form, external/cwe/cwe-798.
		add("external/cwe/" + strings.ToLower(strings.TrimSpace(id)))
	}
	return tags
}

// sarifLocationOf converts a location; ok is false when it names nothing.
func sarifLocationOf(l *Location) (sarifLocation, bool) {
	var loc sarifLocation
	spanInRegion := false
	if l.Path != "" {
		phys := &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(l.Path)}}
		// A span is a byte range of the file (from the offset, if any)
		// unless the finding is in a record's row or field, which the
		// span is then relative to.
		spanInFile := l.Span != nil && l.Row == 0 && l.Field == ""
		switch {
		case l.Line > 0:
			phys.Region = &sarifRegion{StartLine: l.Line, StartColumn: l.Column}
		case l.Offset > 0 || spanInFile:
			off := l.Offset
			reg := &sarifRegion{ByteOffset: &off}
			if spanInFile {
				off = l.Offset + int64(l.Span.Start)
				n := int64(l.Span.End - l.Span.Start)
				reg.ByteLength = &n
				spanInRegion = true
			}
			phys.Region = reg
		}
		loc.PhysicalLocation = phys
	}
	if ll, ok := logicalLocationOf(l); ok {
		loc.LogicalLocations = []sarifLogical{ll}
	}
	if l.Span != nil && !spanInRegion {
		loc.Properties = &sarifSpanProps{Span: l.Span}
	}
	return loc, loc.PhysicalLocation != nil || loc.LogicalLocations != nil
}

// logicalLocationOf names the non-file part of a location: the field of a
// request or record, the request, or the dataset row.
func logicalLocationOf(l *Location) (sarifLogical, bool) {
	var parts []string
	if l.Path == "" && l.RequestID != "" {
		parts = append(parts, l.RequestID)
	}
	row := ""
	if l.Row > 0 {
		row = "row " + strconv.FormatInt(l.Row, 10)
		parts = append(parts, row)
	}
	if l.Field != "" {
		parts = append(parts, l.Field)
	}
	var ll sarifLogical
	switch {
	case l.Field != "":
		ll = sarifLogical{Name: l.Field, Kind: "member"}
	case row != "":
		ll = sarifLogical{Name: row, Kind: "element"}
	case l.Path == "" && l.RequestID != "":
		ll = sarifLogical{Name: l.RequestID, Kind: "resource"}
	default:
		return ll, false
	}
	if len(parts) > 1 {
		ll.FullyQualifiedName = strings.Join(parts, " ")
	}
	return ll, true
}

// artifactURI turns a path into a SARIF artifactLocation.uri: a relative
// path becomes a relative URI reference with each segment percent-escaped,
// an absolute path a file:// URI, and a string that already is a URI
// ("hf://org/model") is kept, escaped as needed.
func artifactURI(path string) string {
	if hasScheme(path) {
		if u, err := url.Parse(path); err == nil {
			return u.String()
		}
	}
	p := filepath.ToSlash(path)
	switch {
	case len(p) >= 3 && isASCIILetter(p[0]) && p[1] == ':' && p[2] == '/':
		// A Windows drive path, C:/dir/file.
		return "file:///" + p[:2] + escapeSegments(p[2:])
	case strings.HasPrefix(p, "/"):
		return "file://" + escapeSegments(p)
	}
	for strings.HasPrefix(p, "./") {
		p = strings.TrimLeft(p[2:], "/")
	}
	if p == "" || p == "." {
		return "./"
	}
	s := escapeSegments(p)
	// A colon in the first segment would read as a scheme.
	first, rest, hasRest := strings.Cut(s, "/")
	if !strings.Contains(first, ":") {
		return s
	}
	first = strings.ReplaceAll(first, ":", "%3A")
	if hasRest {
		return first + "/" + rest
	}
	return first
}

func escapeSegments(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// hasScheme reports whether s starts with a URI scheme of at least two
// characters followed by "://" (one letter would be a Windows drive).
func hasScheme(s string) bool {
	i := strings.Index(s, "://")
	if i < 2 {
		return false
	}
	if !isASCIILetter(s[0]) {
		return false
	}
	for j := 1; j < i; j++ {
		c := s[j]
		if !isASCIILetter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// clip cuts s to at most n characters (runes), ending with "…" when it cuts.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n-1; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + ellipsis
}

// markdownEscape escapes the characters that Markdown (and GitHub's HTML
// sanitiser before it) would interpret in a line of text.
func markdownEscape(s string) string {
	const special = "\\`*_[]<>#|~&"
	if !strings.ContainsAny(s, special) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && strings.IndexByte(special, byte(r)) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
