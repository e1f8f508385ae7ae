package finding

import (
	"strconv"
	"strings"
)

// owasp2025Pages are the pages of the OWASP Top 10 for LLM Applications
// 2025 on genai.owasp.org. The site is not consistent in its slugs (LLM01
// lacks the year that the others carry), hence a table.
var owasp2025Pages = [...]string{
	1:  "llm01-prompt-injection",
	2:  "llm022025-sensitive-information-disclosure",
	3:  "llm032025-supply-chain",
	4:  "llm042025-data-and-model-poisoning",
	5:  "llm052025-improper-output-handling",
	6:  "llm062025-excessive-agency",
	7:  "llm072025-system-prompt-leakage",
	8:  "llm082025-vector-and-embedding-weaknesses",
	9:  "llm092025-misinformation",
	10: "llm102025-unbounded-consumption",
}

const owaspTop10URL = "https://genai.owasp.org/llm-top-10/"

// owaspURL links an OWASP LLM Top 10 id such as "LLM02:2025" (or "LLM02",
// taken as the 2025 edition) to its page; ids of other editions link to the
// list. It returns "" for a string that is no such id.
func owaspURL(id string) string {
	s := strings.ToUpper(strings.TrimSpace(id))
	rest, ok := strings.CutPrefix(s, "LLM")
	if !ok {
		return ""
	}
	num, year, hasYear := strings.Cut(rest, ":")
	if len(num) != 2 || !allDigits(num) {
		return ""
	}
	if hasYear && (len(year) != 4 || !allDigits(year)) {
		return ""
	}
	n, _ := strconv.Atoi(num)
	if (!hasYear || year == "2025") && n >= 1 && n <= 10 {
		return "https://genai.owasp.org/llmrisk/" + owasp2025Pages[n] + "/"
	}
	return owaspTop10URL
}

// atlasURL links a MITRE ATLAS id to its page: techniques and
// sub-techniques ("AML.T0051", "AML.T0051.000"), tactics ("AML.TA0002"),
// mitigations ("AML.M0015") and case studies ("AML.CS0000"). It returns ""
// for a string that is no such id.
func atlasURL(id string) string {
	s := strings.ToUpper(strings.TrimSpace(id))
	rest, ok := strings.CutPrefix(s, "AML.")
	if !ok {
		return ""
	}
	for _, k := range [...]struct{ prefix, path string }{
		{"TA", "tactics"}, {"CS", "studies"}, {"T", "techniques"}, {"M", "mitigations"},
	} {
		num, ok := strings.CutPrefix(rest, k.prefix)
		if !ok {
			continue
		}
		main, sub, hasSub := strings.Cut(num, ".")
		if len(main) != 4 || !allDigits(main) {
			return ""
		}
		if hasSub && (k.prefix != "T" || len(sub) != 3 || !allDigits(sub)) {
			return ""
		}
		return "https://atlas.mitre.org/" + k.path + "/" + s
	}
	return ""
}

// cweURL links "CWE-798" to its definition, or returns "".
func cweURL(id string) string {
	s := strings.ToUpper(strings.TrimSpace(id))
	num, ok := strings.CutPrefix(s, "CWE-")
	if !ok || len(num) > 7 || !allDigits(num) {
		return ""
	}
	n, _ := strconv.Atoi(num)
	return "https://cwe.mitre.org/data/definitions/" + strconv.Itoa(n) + ".html"
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// refLink is one reference as a report shows it.
type refLink struct {
	Kind  string // "OWASP", "ATLAS" or "CWE"
	ID    string
	URL   string // empty when the id is not recognised
	Label string // e.g. "OWASP LLM02:2025", "ATLAS AML.T0051", "CWE-798"
}

// referenceLinks lists refs in a fixed order: OWASP, ATLAS, CWE.
func referenceLinks(refs References) []refLink {
	out := make([]refLink, 0, len(refs.OWASP)+len(refs.ATLAS)+len(refs.CWE))
	for _, id := range refs.OWASP {
		out = append(out, refLink{Kind: "OWASP", ID: id, URL: owaspURL(id), Label: "OWASP " + id})
	}
	for _, id := range refs.ATLAS {
		out = append(out, refLink{Kind: "ATLAS", ID: id, URL: atlasURL(id), Label: "ATLAS " + id})
	}
	for _, id := range refs.CWE {
		out = append(out, refLink{Kind: "CWE", ID: id, URL: cweURL(id), Label: id})
	}
	return out
}
