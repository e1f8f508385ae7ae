package anonymize

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

func luhn(s string) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n >= 12 && sum%10 == 0
}

func TestParseStyle(t *testing.T) {
	for in, want := range map[string]Style{"": Mask, "mask": Mask, "hash": Hash, "synthetic": Synthetic} {
		if got, err := ParseStyle(in); err != nil || got != want {
			t.Errorf("ParseStyle(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseStyle("placeholder"); err == nil {
		t.Error("ParseStyle accepted placeholder (an action, not a redact style)")
	}
}

func TestHasher(t *testing.T) {
	h := NewHasher([]byte("deployment-key"))
	a, b := h.Token("EMAIL", "jane@corp.example"), h.Token("EMAIL", "jane@corp.example")
	if a != b {
		t.Fatalf("unstable: %q %q", a, b)
	}
	if !regexp.MustCompile(`^\[EMAIL:[0-9a-f]{8}\]$`).MatchString(a) {
		t.Fatalf("shape %q", a)
	}
	if h.Token("EMAIL", "bob@corp.example") == a {
		t.Fatal("different values, same token")
	}
	if NewHasher([]byte("other-key")).Token("EMAIL", "jane@corp.example") == a {
		t.Fatal("token does not depend on the key")
	}
	if strings.Contains(a, "jane") {
		t.Fatal("token reveals the value")
	}
}

func TestFaker(t *testing.T) {
	f := NewFaker([]byte("seed"))
	tests := []struct {
		label, value string
		ok           func(string) bool
	}{
		{"EMAIL", "jane.doe@corp.example", func(s string) bool { return strings.HasSuffix(s, "@example.com") && strings.Count(s, "@") == 1 }},
		{"PHONE_NUMBER", "(415) 555-2671", func(s string) bool { return strings.Contains(s, "555-01") }},
		{"PHONE_NUMBER", "+44 20 7123 4567", func(s string) bool { return strings.HasPrefix(s, "+44 20 7946 0") }},
		{"CREDIT_CARD", "4242 4242 4242 4242", func(s string) bool {
			return luhn(s) && s[0] == '4' && regexp.MustCompile(`^\d{4} \d{4} \d{4} \d{4}$`).MatchString(s)
		}},
		{"CREDIT_CARD", "5500-0000-0000-0004", func(s string) bool { return luhn(s) && s[0] == '5' && strings.Count(s, "-") == 3 }},
		{"CREDIT_CARD", "4111111111111111", func(s string) bool { return luhn(s) && len(s) == 16 }}, // a test number itself
		{"US_SSN", "536-22-1234", func(s string) bool { return regexp.MustCompile(`^9\d\d-\d\d-\d{4}$`).MatchString(s) }},
		{"US_SSN", "536221234", func(s string) bool { return regexp.MustCompile(`^9\d{8}$`).MatchString(s) }},
		{"IBAN", "DE89 3704 0044 0532 0130 00", func(s string) bool {
			return IBANValid(s) && strings.HasPrefix(s, "DE") && len(s) == len("DE89 3704 0044 0532 0130 00") && s[5:9] == "0000"
		}},
		{"IBAN", "GB82WEST12345698765432", func(s string) bool { return IBANValid(s) && strings.HasPrefix(s, "GB") && s[4:8] == "XXXX" }},
		{"IP_ADDRESS", "10.1.2.3", func(s string) bool { return netip.MustParsePrefix("192.0.2.0/24").Contains(netip.MustParseAddr(s)) }},
		{"IP_ADDRESS", "fe80::1", func(s string) bool { return netip.MustParsePrefix("2001:db8::/32").Contains(netip.MustParseAddr(s)) }},
		{"PERSON", "Jane Doe", func(s string) bool { return strings.Count(s, " ") == 1 && s != "Jane Doe" }},
		{"AWS_ACCESS_KEY", "AKIA…", func(s string) bool { return s == "[REDACTED:AWS_ACCESS_KEY]" }},
	}
	for _, tt := range tests {
		got := f.Fake(tt.label, tt.value)
		if !tt.ok(got) || got == tt.value {
			t.Errorf("Fake(%s, %q) = %q", tt.label, tt.value, got)
		}
		if again := f.Fake(tt.label, tt.value); again != got {
			t.Errorf("Fake(%s) not stable: %q then %q", tt.label, got, again)
		}
	}
	if !IBANValid("DE89 3704 0044 0532 0130 00") || IBANValid("DE88 3704 0044 0532 0130 00") {
		t.Fatal("IBANValid is wrong on a known IBAN")
	}
}

func TestSessionReplace(t *testing.T) {
	s := NewSession(NewHasher([]byte("k")))
	if got := s.Replace(Mask, "EMAIL", "a@b.example"); got != "[REDACTED:EMAIL]" {
		t.Errorf("mask %q", got)
	}
	if got := s.Replace(Placeholder, "EMAIL", "a@b.example"); got != "<EMAIL_1>" {
		t.Errorf("placeholder %q", got)
	}
	if got := s.Replace(Hash, "EMAIL", "a@b.example"); !strings.HasPrefix(got, "[EMAIL:") {
		t.Errorf("hash %q", got)
	}
	if got := s.Replace(Synthetic, "EMAIL", "a@b.example"); !strings.HasSuffix(got, "@example.com") {
		t.Errorf("synthetic %q", got)
	}
	// Two sessions fake differently (fresh seeds) with overwhelming odds.
	a := NewSession(nil).Replace(Synthetic, "US_SSN", "536-22-1234")
	diff := false
	for i := 0; i < 5 && !diff; i++ {
		diff = NewSession(nil).Replace(Synthetic, "US_SSN", "536-22-1234") != a
	}
	if !diff {
		t.Error("fakes are the same across sessions")
	}
}
