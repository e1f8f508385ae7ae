package finding

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The SARIF 2.1.0 schema (OASIS, sarif-schema-2.1.0.json), restated as a
// checker for the part of it this package writes. Each definition lists the
// properties the schema allows (it sets additionalProperties false for
// every one of them except propertyBag), which are required, which anyOf
// groups apply, and the types, enums, minimums and formats of the values.
// An object with a property that is not listed fails, so a misspelt
// property is caught.

type schemaProp struct {
	typ      string // string, integer, number, boolean, object, array, stringmap
	ref      string // definition of an object
	items    *schemaProp
	enum     []string
	min      *float64
	max      *float64
	unique   bool
	minItems int
	format   string // uri, uri-reference, date-time
}

type schemaDef struct {
	props    map[string]schemaProp
	required []string
	anyOf    [][]string
	open     bool // additionalProperties: true
}

func num(v float64) *float64 { return &v }

var (
	pString  = schemaProp{typ: "string"}
	pBool    = schemaProp{typ: "boolean"}
	pBag     = schemaProp{typ: "object", ref: "propertyBag"}
	pMessage = schemaProp{typ: "object", ref: "message"}
	pMMS     = schemaProp{typ: "object", ref: "multiformatMessageString"}
	pLevel   = schemaProp{typ: "string", enum: []string{"none", "note", "warning", "error"}}
	pIndex   = schemaProp{typ: "integer", min: num(-1)}
	pURI     = schemaProp{typ: "string", format: "uri"}
	pTime    = schemaProp{typ: "string", format: "date-time"}
)

func arrayOf(p schemaProp, unique bool) schemaProp {
	return schemaProp{typ: "array", items: &p, unique: unique}
}

func obj(ref string) schemaProp { return schemaProp{typ: "object", ref: ref} }

var sarifSchema = map[string]schemaDef{
	"sarifLog": {
		props: map[string]schemaProp{
			"$schema":                  pURI,
			"version":                  {typ: "string", enum: []string{"2.1.0"}},
			"runs":                     arrayOf(obj("run"), false),
			"inlineExternalProperties": arrayOf(schemaProp{typ: "object"}, true),
			"properties":               pBag,
		},
		required: []string{"version", "runs"},
	},
	"run": {
		props: map[string]schemaProp{
			"tool":        obj("tool"),
			"invocations": arrayOf(obj("invocation"), false),
			"results":     arrayOf(obj("result"), false),
			"language":    pString,
			"columnKind":  {typ: "string", enum: []string{"utf16CodeUnits", "unicodeCodePoints"}},
			"properties":  pBag,
		},
		required: []string{"tool"},
	},
	"tool": {
		props:    map[string]schemaProp{"driver": obj("toolComponent"), "extensions": arrayOf(obj("toolComponent"), true), "properties": pBag},
		required: []string{"driver"},
	},
	"toolComponent": {
		props: map[string]schemaProp{
			"name": pString, "version": pString, "semanticVersion": pString, "fullName": pString,
			"organization": pString, "informationUri": pURI, "downloadUri": pURI,
			"shortDescription": pMMS, "fullDescription": pMMS,
			"rules": arrayOf(obj("reportingDescriptor"), true), "properties": pBag,
		},
		required: []string{"name"},
	},
	"reportingDescriptor": {
		props: map[string]schemaProp{
			"id": pString, "name": pString, "shortDescription": pMMS, "fullDescription": pMMS,
			"help": pMMS, "helpUri": pURI, "defaultConfiguration": obj("reportingConfiguration"),
			"properties": pBag,
		},
		required: []string{"id"},
	},
	"reportingConfiguration": {
		props: map[string]schemaProp{
			"enabled": pBool, "level": pLevel, "rank": {typ: "number", min: num(-1), max: num(100)},
			"parameters": pBag, "properties": pBag,
		},
	},
	"multiformatMessageString": {
		props:    map[string]schemaProp{"text": pString, "markdown": pString, "properties": pBag},
		required: []string{"text"},
	},
	"message": {
		props: map[string]schemaProp{"text": pString, "markdown": pString, "id": pString,
			"arguments": arrayOf(pString, false), "properties": pBag},
		anyOf: [][]string{{"text"}, {"id"}},
	},
	"propertyBag": {
		props: map[string]schemaProp{"tags": arrayOf(pString, true)},
		open:  true,
	},
	"invocation": {
		props: map[string]schemaProp{"executionSuccessful": pBool, "startTimeUtc": pTime, "endTimeUtc": pTime,
			"commandLine": pString, "exitCode": {typ: "integer"}, "properties": pBag},
		required: []string{"executionSuccessful"},
	},
	"result": {
		props: map[string]schemaProp{
			"ruleId": pString, "ruleIndex": pIndex, "level": pLevel,
			"kind":    {typ: "string", enum: []string{"notApplicable", "pass", "fail", "review", "open", "informational"}},
			"message": pMessage, "locations": arrayOf(obj("location"), false),
			"partialFingerprints": {typ: "stringmap"}, "fingerprints": {typ: "stringmap"},
			"rank":       {typ: "number", min: num(-1), max: num(100)},
			"properties": pBag,
		},
		required: []string{"message"},
	},
	"location": {
		props: map[string]schemaProp{
			"id": pIndex, "physicalLocation": obj("physicalLocation"),
			"logicalLocations": arrayOf(obj("logicalLocation"), true), "message": pMessage,
			"properties": pBag,
		},
	},
	"physicalLocation": {
		props: map[string]schemaProp{"artifactLocation": obj("artifactLocation"), "region": obj("region"),
			"contextRegion": obj("region"), "address": {typ: "object"}, "properties": pBag},
		anyOf: [][]string{{"address"}, {"artifactLocation"}},
	},
	"artifactLocation": {
		props: map[string]schemaProp{"uri": {typ: "string", format: "uri-reference"}, "uriBaseId": pString,
			"index": pIndex, "description": pMessage, "properties": pBag},
	},
	"region": {
		props: map[string]schemaProp{
			"startLine": {typ: "integer", min: num(1)}, "startColumn": {typ: "integer", min: num(1)},
			"endLine": {typ: "integer", min: num(1)}, "endColumn": {typ: "integer", min: num(1)},
			"charOffset": pIndex, "charLength": {typ: "integer", min: num(0)},
			"byteOffset": pIndex, "byteLength": {typ: "integer", min: num(0)},
			"message": pMessage, "sourceLanguage": pString, "properties": pBag,
		},
		anyOf: [][]string{{"startLine"}, {"charOffset"}, {"byteOffset"}},
	},
	"logicalLocation": {
		props: map[string]schemaProp{"name": pString, "index": pIndex, "fullyQualifiedName": pString,
			"decoratedName": pString, "parentIndex": pIndex, "kind": pString, "properties": pBag},
	},
}

// checkSchema validates doc (decoded with UseNumber) against definition
// def and returns every violation.
func checkSchema(doc any, def string) []string {
	var errs []string
	checkObject(&errs, "$", doc, def)
	return errs
}

func checkObject(errs *[]string, path string, v any, def string) {
	d, ok := sarifSchema[def]
	if !ok {
		panic("no schema definition " + def)
	}
	m, ok := v.(map[string]any)
	if !ok {
		*errs = append(*errs, fmt.Sprintf("%s: want an object (%s), got %T", path, def, v))
		return
	}
	for _, k := range d.required {
		if _, ok := m[k]; !ok {
			*errs = append(*errs, fmt.Sprintf("%s: %s lacks required property %q", path, def, k))
		}
	}
	if len(d.anyOf) > 0 {
		found := false
		for _, group := range d.anyOf {
			all := true
			for _, k := range group {
				if _, ok := m[k]; !ok {
					all = false
				}
			}
			found = found || all
		}
		if !found {
			*errs = append(*errs, fmt.Sprintf("%s: %s needs one of %v", path, def, d.anyOf))
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p, ok := d.props[k]
		if !ok {
			if !d.open {
				*errs = append(*errs, fmt.Sprintf("%s: %s does not allow property %q", path, def, k))
			}
			continue
		}
		checkValue(errs, path+"."+k, m[k], p)
	}
}

func checkValue(errs *[]string, path string, v any, p schemaProp) {
	bad := func(format string, args ...any) {
		*errs = append(*errs, path+": "+fmt.Sprintf(format, args...))
	}
	switch p.typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return
		}
		if p.enum != nil && !slices.Contains(p.enum, s) {
			bad("%q is not one of %v", s, p.enum)
		}
		switch p.format {
		case "uri":
			if u, err := url.Parse(s); err != nil || !u.IsAbs() {
				bad("%q is not an absolute URI", s)
			}
		case "uri-reference":
			if _, err := url.Parse(s); err != nil || s == "" {
				bad("%q is not a URI reference: %v", s, err)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				bad("%q is not a date-time", s)
			}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			bad("want a number, got %T", v)
			return
		}
		f, err := n.Float64()
		if err != nil {
			bad("bad number %s", n)
			return
		}
		if p.typ == "integer" {
			if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
				bad("%s is not an integer", n)
			}
		}
		if p.min != nil && f < *p.min {
			bad("%s is less than the minimum %v", n, *p.min)
		}
		if p.max != nil && f > *p.max {
			bad("%s is more than the maximum %v", n, *p.max)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a boolean, got %T", v)
		}
	case "object":
		if p.ref == "" {
			if _, ok := v.(map[string]any); !ok {
				bad("want an object, got %T", v)
			}
			return
		}
		checkObject(errs, path, v, p.ref)
	case "stringmap":
		m, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return
		}
		for k, e := range m {
			if _, ok := e.(string); !ok {
				bad("property %q: want a string, got %T", k, e)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			return
		}
		if len(a) < p.minItems {
			bad("want at least %d items", p.minItems)
		}
		seen := map[string]bool{}
		for i, e := range a {
			if p.unique {
				b, _ := json.Marshal(e)
				if seen[string(b)] {
					bad("item %d repeats an earlier item (uniqueItems)", i)
				}
				seen[string(b)] = true
			}
			checkValue(errs, fmt.Sprintf("%s[%d]", path, i), e, *p.items)
		}
	default:
		panic("bad schema type " + p.typ)
	}
}

func decodeSARIF(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("SARIF output is not JSON: %v", err)
	}
	return doc
}

// githubProblems checks what GitHub code scanning requires beyond the
// schema (docs.github.com, "SARIF support for code scanning"): the schema
// address, one run, a named driver with a rules array, non-empty rule
// descriptions and help of at most 1024 characters, a results array,
// non-empty messages, partialFingerprints, at most 10 locations, a
// ruleIndex that points at the rule named by ruleId, and a security-severity
// between 0.1 and 10.
func githubProblems(doc map[string]any) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if doc["$schema"] != SARIFSchema {
		bad("$schema is %v", doc["$schema"])
	}
	runs, _ := doc["runs"].([]any)
	if len(runs) != 1 {
		return append(errs, fmt.Sprintf("want 1 run, got %d", len(runs)))
	}
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if s, _ := driver["name"].(string); s == "" {
		bad("driver has no name")
	}
	rules, ok := driver["rules"].([]any)
	if !ok {
		bad("driver has no rules array")
	}
	var ids []string
	for i, ru := range rules {
		ru := ru.(map[string]any)
		id, _ := ru["id"].(string)
		ids = append(ids, id)
		for _, k := range []string{"shortDescription", "fullDescription", "help"} {
			m, _ := ru[k].(map[string]any)
			text, _ := m["text"].(string)
			if text == "" {
				bad("rules[%d] (%s): empty %s.text", i, id, k)
			}
			if k != "help" && len([]rune(text)) > 1024 {
				bad("rules[%d] (%s): %s.text longer than 1024 characters", i, id, k)
			}
		}
		props, _ := ru["properties"].(map[string]any)
		sev, _ := props["security-severity"].(string)
		if f, err := strconv.ParseFloat(sev, 64); err != nil || f < 0.1 || f > 10 {
			bad("rules[%d] (%s): security-severity %q not in 0.1–10", i, id, sev)
		}
		if tags, _ := props["tags"].([]any); !slices.Contains(tags, any("security")) {
			bad("rules[%d] (%s): no security tag", i, id)
		}
	}
	results, ok := run["results"].([]any)
	if !ok {
		bad("run has no results array")
	}
	for i, res := range results {
		res := res.(map[string]any)
		if m, _ := res["message"].(map[string]any); m["text"] == "" || m["text"] == nil {
			bad("results[%d]: empty message.text", i)
		}
		if fp, _ := res["partialFingerprints"].(map[string]any); len(fp) == 0 {
			bad("results[%d]: no partialFingerprints", i)
		}
		if locs, _ := res["locations"].([]any); len(locs) > 10 {
			bad("results[%d]: %d locations", i, len(locs))
		}
		idx, err := res["ruleIndex"].(json.Number).Int64()
		if err != nil || idx < 0 || int(idx) >= len(ids) || ids[idx] != res["ruleId"] {
			bad("results[%d]: ruleIndex %v does not point at rule %v", i, res["ruleIndex"], res["ruleId"])
		}
	}
	return errs
}

func TestSARIFConformsToSchema(t *testing.T) {
	for _, tc := range reportCases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSARIF(&buf, tc.report()); err != nil {
				t.Fatal(err)
			}
			doc := decodeSARIF(t, buf.Bytes())
			for _, e := range checkSchema(doc, "sarifLog") {
				t.Error("schema: " + e)
			}
			for _, e := range githubProblems(doc) {
				t.Error("github: " + e)
			}
		})
	}
}

// TestSchemaCheckerCatchesErrors makes sure the checkers above can fail.
func TestSchemaCheckerCatchesErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	mutations := []struct {
		name   string
		mutate func(doc map[string]any)
		want   string
	}{
		{"version", func(d map[string]any) { d["version"] = "2.0.0" }, "is not one of"},
		{"unknown property", func(d map[string]any) { result(d, 0)["rule_id"] = "x" }, `does not allow property "rule_id"`},
		{"startLine 0", func(d map[string]any) {
			region(d)["startLine"] = json.Number("0")
		}, "less than the minimum"},
		{"no message", func(d map[string]any) { delete(result(d, 0), "message") }, `lacks required property "message"`},
		{"bad level", func(d map[string]any) { result(d, 0)["level"] = "critical" }, "is not one of"},
		{"empty region", func(d map[string]any) {
			r := region(d)
			delete(r, "startLine")
			delete(r, "startColumn")
		}, "needs one of"},
		{"duplicate rule", func(d map[string]any) {
			drv := d["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)
			rules := drv["rules"].([]any)
			drv["rules"] = append(rules, rules[0])
		}, "uniqueItems"},
		{"wrong ruleIndex", func(d map[string]any) { result(d, 0)["ruleIndex"] = json.Number("0") }, "does not point at rule"},
		{"relative informationUri", func(d map[string]any) {
			d["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)["informationUri"] = "rampart"
		}, "not an absolute URI"},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			doc := decodeSARIF(t, buf.Bytes())
			m.mutate(doc)
			errs := append(checkSchema(doc, "sarifLog"), githubProblems(doc)...)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, m.want) }) {
				t.Errorf("no error containing %q; got %q", m.want, errs)
			}
		})
	}
}

func result(doc map[string]any, i int) map[string]any {
	return doc["runs"].([]any)[0].(map[string]any)["results"].([]any)[i].(map[string]any)
}

// region returns the region of the first result (the critical AWS key,
// which has a line and column).
func region(doc map[string]any) map[string]any {
	loc := result(doc, 0)["locations"].([]any)[0].(map[string]any)
	return loc["physicalLocation"].(map[string]any)["region"].(map[string]any)
}

func writeSARIFLog(t *testing.T, r *Report) sarifLog {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, r); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	return log
}

func TestSARIFRules(t *testing.T) {
	r := sampleReport()
	log := writeSARIFLog(t, r)
	run := log.Runs[0]
	var ids []string
	for _, ru := range run.Tool.Driver.Rules {
		ids = append(ids, ru.ID)
	}
	// The report's rules (deduplicated, unused ones kept) and synthesised
	// rules for every other finding, sorted by id.
	want := []string{"deps.unpinned", "injection.ignore-previous", "model.pickle-global", "output.system-prompt-leak",
		"pii.email", "pii.phone-number", "secrets.aws-access-key", "secrets.generic-api-key", "toxicity.slur"}
	if !slices.Equal(ids, want) {
		t.Fatalf("rule ids = %q, want %q", ids, want)
	}
	for _, res := range run.Results {
		if got := run.Tool.Driver.Rules[res.RuleIndex].ID; got != res.RuleID {
			t.Errorf("result for %s has ruleIndex %d, which is %s", res.RuleID, res.RuleIndex, got)
		}
	}
	byID := map[string]sarifRule{}
	for _, ru := range run.Tool.Driver.Rules {
		byID[ru.ID] = ru
	}
	aws := byID["secrets.aws-access-key"]
	if aws.Properties.SecuritySeverity != "9.5" || aws.DefaultConfiguration.Level != "error" {
		t.Errorf("aws rule: security-severity %q level %q", aws.Properties.SecuritySeverity, aws.DefaultConfiguration.Level)
	}
	if !slices.Equal(aws.Properties.Tags, []string{"security", "external/owasp-llm/LLM02:2025", "external/cwe/cwe-798"}) {
		t.Errorf("aws rule tags = %q", aws.Properties.Tags)
	}
	if !strings.HasPrefix(aws.Help.Text, ruleAWS.Remediation) || !strings.Contains(aws.Help.Markdown, "(https://cwe.mitre.org/data/definitions/798.html)") {
		t.Errorf("aws rule help = %+v", aws.Help)
	}
	// A synthesised rule comes from its finding.
	phone := byID["pii.phone-number"]
	if phone.ShortDescription.Text != "Phone number" || phone.Properties.Layer != 1 || phone.Properties.SecuritySeverity != "3.0" {
		t.Errorf("synthesised phone rule = %+v", phone)
	}
	// A rule without remediation still has help text.
	if leak := byID["output.system-prompt-leak"]; leak.Help.Text == "" {
		t.Error("rule without remediation has empty help")
	}
}

func TestSARIFLevels(t *testing.T) {
	want := map[Severity][2]string{
		Critical: {"error", "9.5"}, High: {"error", "8.0"}, Medium: {"warning", "5.5"}, Low: {"note", "3.0"}, Info: {"note", "1.0"},
	}
	for sev, w := range want {
		ru := Rule{ID: "r." + sev.String(), Title: "T", Layer: LayerOutput, Severity: sev}
		log := writeSARIFLog(t, &Report{Findings: []Finding{New(&ru, Location{Path: "a"}, 1, "")}})
		res := log.Runs[0].Results[0]
		ruleOut := log.Runs[0].Tool.Driver.Rules[0]
		if res.Level != w[0] || ruleOut.Properties.SecuritySeverity != w[1] || ruleOut.DefaultConfiguration.Level != w[0] {
			t.Errorf("%s: level %q security-severity %q, want %q", sev, res.Level, ruleOut.Properties.SecuritySeverity, w)
		}
	}
}

func TestSARIFLocations(t *testing.T) {
	tests := []struct {
		name string
		loc  Location
		want string // JSON of the result's locations
	}{
		{"line and column", Location{Path: "a/b.py", Line: 12, Column: 4},
			`[{"physicalLocation":{"artifactLocation":{"uri":"a/b.py"},"region":{"startLine":12,"startColumn":4}}}]`},
		{"line only", Location{Path: "a/b.py", Line: 12},
			`[{"physicalLocation":{"artifactLocation":{"uri":"a/b.py"},"region":{"startLine":12}}}]`},
		{"whole file", Location{Path: "model.gguf"},
			`[{"physicalLocation":{"artifactLocation":{"uri":"model.gguf"}}}]`},
		{"offset", Location{Path: "m.pt", Offset: 100},
			`[{"physicalLocation":{"artifactLocation":{"uri":"m.pt"},"region":{"byteOffset":100}}}]`},
		{"offset and span", Location{Path: "m.pt", Offset: 100, Span: &Span{Start: 3, End: 10}},
			`[{"physicalLocation":{"artifactLocation":{"uri":"m.pt"},"region":{"byteOffset":103,"byteLength":7}}}]`},
		{"span of the file", Location{Path: "f.txt", Span: &Span{Start: 0, End: 5}},
			`[{"physicalLocation":{"artifactLocation":{"uri":"f.txt"},"region":{"byteOffset":0,"byteLength":5}}}]`},
		{"span on a line", Location{Path: "f.txt", Line: 2, Span: &Span{Start: 3, End: 5}},
			`[{"physicalLocation":{"artifactLocation":{"uri":"f.txt"},"region":{"startLine":2}},"properties":{"span":{"start":3,"end":5}}}]`},
		{"dataset row and field", Location{Path: "d.csv", Row: 7, Field: "text", Span: &Span{Start: 1, End: 2}},
			`[{"physicalLocation":{"artifactLocation":{"uri":"d.csv"}},"logicalLocations":[{"name":"text","fullyQualifiedName":"row 7 text","kind":"member"}],"properties":{"span":{"start":1,"end":2}}}]`},
		{"dataset row", Location{Path: "d.jsonl", Row: 7},
			`[{"physicalLocation":{"artifactLocation":{"uri":"d.jsonl"}},"logicalLocations":[{"name":"row 7","kind":"element"}]}]`},
		{"request field", Location{RequestID: "req_1", Field: "messages[0].content", Span: &Span{Start: 0, End: 4}},
			`[{"logicalLocations":[{"name":"messages[0].content","fullyQualifiedName":"req_1 messages[0].content","kind":"member"}],"properties":{"span":{"start":0,"end":4}}}]`},
		{"request", Location{RequestID: "req_1"},
			`[{"logicalLocations":[{"name":"req_1","kind":"resource"}]}]`},
		{"nothing", Location{}, `null`},
	}
	ru := Rule{ID: "r", Title: "T", Layer: LayerOutput, Severity: Low}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSARIF(&buf, &Report{Findings: []Finding{New(&ru, tc.loc, 1, "")}}); err != nil {
				t.Fatal(err)
			}
			var log struct {
				Runs []struct {
					Results []struct {
						Locations json.RawMessage `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			got := log.Runs[0].Results[0].Locations
			if got == nil {
				got = json.RawMessage("null")
			}
			if err := json.Compact(&compact, got); err != nil {
				t.Fatal(err)
			}
			if compact.String() != tc.want {
				t.Errorf("locations =\n%s\nwant\n%s", compact.String(), tc.want)
			}
			for _, e := range checkSchema(decodeSARIF(t, buf.Bytes()), "sarifLog") {
				t.Error("schema: " + e)
			}
		})
	}
}

func TestArtifactURI(t *testing.T) {
	tests := []struct{ path, want string }{
		{"a/b.py", "a/b.py"},
		{"./a/b.py", "a/b.py"},
		{".//a/b.py", "a/b.py"},
		{"dir with space/f#1?.txt", "dir%20with%20space/f%231%3F.txt"},
		{"naïve/文件.md", "na%C3%AFve/%E6%96%87%E4%BB%B6.md"},
		{"100%.txt", "100%25.txt"},
		{"a:b/c.txt", "a%3Ab/c.txt"},
		{"a:b", "a%3Ab"},
		{"/abs/path/x.go", "file:///abs/path/x.go"},
		{"/abs/with space.go", "file:///abs/with%20space.go"},
		{"C:/Users/x/y.go", "file:///C:/Users/x/y.go"},
		{"hf://org/model name", "hf://org/model%20name"},
		{"s3://bucket/key", "s3://bucket/key"},
		{"../up/x.go", "../up/x.go"},
		{".", "./"},
	}
	for _, tc := range tests {
		got := artifactURI(tc.path)
		if got != tc.want {
			t.Errorf("artifactURI(%q) = %q, want %q", tc.path, got, tc.want)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Errorf("artifactURI(%q) = %q is not a URI reference: %v", tc.path, got, err)
			continue
		}
		// A relative path must stay relative, and decode back to itself.
		if !strings.HasPrefix(tc.path, "/") && !strings.Contains(tc.path, "://") && !strings.HasPrefix(tc.path, "C:") && tc.path != "." {
			if u.Scheme != "" {
				t.Errorf("artifactURI(%q) = %q has a scheme", tc.path, got)
			}
			if dec, _ := url.PathUnescape(got); dec != strings.TrimLeft(strings.TrimPrefix(tc.path, "./"), "/") {
				t.Errorf("artifactURI(%q) decodes to %q", tc.path, dec)
			}
		}
	}
}

func TestSARIFFingerprints(t *testing.T) {
	r := sampleReport()
	log := writeSARIFLog(t, r)
	seen := map[string]bool{}
	for _, res := range log.Runs[0].Results {
		fp := res.PartialFingerprints.Rampart
		if len(fp) != 32 {
			t.Errorf("%s: fingerprint %q", res.RuleID, fp)
		}
		if seen[fp] {
			t.Errorf("%s: fingerprint %q repeats", res.RuleID, fp)
		}
		seen[fp] = true
	}
	// The producer's fingerprint is used as is.
	var aws sarifResult
	for _, res := range log.Runs[0].Results {
		if res.RuleID == ruleAWS.ID {
			aws = res
		}
	}
	if want := Fingerprint(ruleAWS.ID, Location{Path: "config/prod.env", Line: 3, Column: 9}, "AKIAIOSFODNN7EXAMPLE"); aws.PartialFingerprints.Rampart != want {
		t.Errorf("aws fingerprint = %q, want %q", aws.PartialFingerprints.Rampart, want)
	}
	// The secret never appears anywhere in the output.
	var buf bytes.Buffer
	for f := FormatTable; f <= FormatHTML; f++ {
		buf.Reset()
		if err := Write(&buf, f, r); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "sk_live_not-a-real-key-9f2a"} {
			if bytes.Contains(buf.Bytes(), []byte(secret)) {
				t.Errorf("%s output contains the secret %q", f, secret)
			}
		}
	}
}
