package osv

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// CVSS3BaseScore computes the base score of a CVSS v3.0 or v3.1 vector
// ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") per the CVSS v3.1
// specification, section 7.1 and appendix A (Roundup). Temporal and
// environmental metrics in the vector are ignored.
func CVSS3BaseScore(vector string) (float64, error) {
	parts := strings.Split(strings.TrimSpace(vector), "/")
	if len(parts) < 9 || (parts[0] != "CVSS:3.1" && parts[0] != "CVSS:3.0") {
		return 0, fmt.Errorf("not a CVSS v3 vector: %q", clip(vector))
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: bad metric %q", clip(vector), clip(p))
		}
		if _, dup := m[k]; dup {
			return 0, fmt.Errorf("CVSS vector %q: metric %s repeated", clip(vector), k)
		}
		m[k] = v
	}
	look := func(k string, vals map[string]float64) (float64, error) {
		x, ok := vals[m[k]]
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: bad or missing %s", clip(vector), k)
		}
		return x, nil
	}
	var scopeChanged bool
	switch m["S"] {
	case "U":
	case "C":
		scopeChanged = true
	default:
		return 0, fmt.Errorf("CVSS vector %q: bad or missing S", clip(vector))
	}
	pr := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if scopeChanged {
		pr = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	var vals [7]float64
	var err error
	for i, x := range []struct {
		k string
		t map[string]float64
	}{
		{"AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}},
		{"AC", map[string]float64{"L": 0.77, "H": 0.44}},
		{"PR", pr},
		{"UI", map[string]float64{"N": 0.85, "R": 0.62}},
		{"C", cia}, {"I", cia}, {"A", cia},
	} {
		if vals[i], err = look(x.k, x.t); err != nil {
			return 0, err
		}
	}
	av, ac, prv, ui, c, in, a := vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6]
	iss := 1 - (1-c)*(1-in)*(1-a)
	var impact float64
	if scopeChanged {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0, nil
	}
	expl := 8.22 * av * ac * prv * ui
	if scopeChanged {
		return roundup(math.Min(1.08*(impact+expl), 10)), nil
	}
	return roundup(math.Min(impact+expl, 10)), nil
}

// roundup is CVSS v3.1's Roundup: the smallest number with one decimal
// place not below x, computed on integers to avoid floating-point error.
func roundup(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// severityOfScore maps a CVSS score to a finding severity with the CVSS
// qualitative scale (none 0, low 0.1-3.9, medium 4-6.9, high 7-8.9,
// critical 9-10).
func severityOfScore(s float64) finding.Severity {
	switch {
	case s >= 9:
		return finding.Critical
	case s >= 7:
		return finding.High
	case s >= 4:
		return finding.Medium
	case s > 0:
		return finding.Low
	}
	return finding.Info
}

// SeverityLevel returns the severity of a vulnerability: from the highest CVSS
// v3 base score among its severity entries (top level and per affected
// package) if any parses, else from a database_specific "severity" word
// (GitHub's CRITICAL, HIGH, MODERATE, LOW), else High. The second result
// is the CVSS score, or 0 when none was computed.
func (v *Vulnerability) SeverityLevel() (finding.Severity, float64) {
	best := -1.0
	consider := func(ss []Severity) {
		for _, s := range ss {
			if s.Type != "CVSS_V3" {
				continue
			}
			if sc, err := CVSS3BaseScore(s.Score); err == nil && sc > best {
				best = sc
			}
		}
	}
	consider(v.Severity)
	for _, a := range v.Affected {
		consider(a.Severity)
	}
	if best >= 0 {
		return severityOfScore(best), best
	}
	sev, found := finding.Info, false
	for _, raw := range v.dbSpecifics() {
		var m struct {
			Severity string `json:"severity"`
		}
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		var s finding.Severity
		switch strings.ToUpper(m.Severity) {
		case "CRITICAL":
			s = finding.Critical
		case "HIGH":
			s = finding.High
		case "MODERATE", "MEDIUM":
			s = finding.Medium
		case "LOW":
			s = finding.Low
		default:
			continue
		}
		if !found || s > sev {
			sev, found = s, true
		}
	}
	if found {
		return sev, 0
	}
	return finding.High, 0
}
