package finding

import "testing"

func TestFamilyRule(t *testing.T) {
	f := Family{Name: "pii", Layer: LayerOutput, Remediation: "Redact it.", References: References{OWASP: []string{"LLM02:2025"}}}
	r := f.Rule("email", "E-mail address", Medium)
	if r.ID != "pii.email" || r.Title != "E-mail address" || r.Layer != LayerOutput || r.Severity != Medium || r.Remediation != "Redact it." || len(r.References.OWASP) != 1 {
		t.Errorf("Rule = %+v", r)
	}
	if r2 := f.Rule("email", "E-mail address", Medium); r2 == r {
		t.Error("Rule returned the same rule twice; each call must make its own")
	}
}
