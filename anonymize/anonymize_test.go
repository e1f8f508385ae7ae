package anonymize

import (
	"bytes"
	"strings"
	"testing"
)

func TestVaultPlaceholders(t *testing.T) {
	v := NewVault()
	tests := []struct {
		label, value, want string
	}{
		{"EMAIL", "a@b.example", "<EMAIL_1>"},
		{"EMAIL", "c@d.example", "<EMAIL_2>"},
		{"EMAIL", "a@b.example", "<EMAIL_1>"},
		{"PHONE_NUMBER", "+1 202 555 0100", "<PHONE_NUMBER_1>"},
		{"person", "Ann Lee", "<PERSON_1>"},
		{"a-b c", "x", "<A_B_C_1>"},
		{"", "y", "<VALUE_1>"},
		{"PERSON", "a@b.example", "<EMAIL_1>"}, // same value, same placeholder
	}
	for _, tt := range tests {
		if got := v.Placeholder(tt.label, tt.value); got != tt.want {
			t.Errorf("Placeholder(%q, %q) = %q, want %q", tt.label, tt.value, got, tt.want)
		}
	}
	if v.Len() != 6 {
		t.Errorf("Len = %d, want 6", v.Len())
	}
	if got, ok := v.Lookup("<EMAIL_2>"); !ok || got != "c@d.example" {
		t.Errorf("Lookup = %q %v", got, ok)
	}
	if v.MaxLen() != len("<PHONE_NUMBER_1>") {
		t.Errorf("MaxLen = %d", v.MaxLen())
	}
}

func testVault() *Vault {
	v := NewVault()
	v.Placeholder("EMAIL", "jane@corp.example")
	v.Placeholder("EMAIL", "bob@corp.example")
	v.Placeholder("PHONE_NUMBER", "+1 415 555 2671")
	return v
}

func TestRestore(t *testing.T) {
	v := testVault()
	tests := []struct {
		name, in, want string
		strip          []string
	}{
		{"plain", "no placeholders here", "no placeholders here", nil},
		{"one", "Write to <EMAIL_1>.", "Write to jane@corp.example.", nil},
		{"adjacent", "<EMAIL_1><EMAIL_2>", "jane@corp.examplebob@corp.example", nil},
		{"invented", "<EMAIL_9> and <NAME_1> stay", "<EMAIL_9> and <NAME_1> stay", nil},
		{"lowercase", "<email_1>", "<email_1>", nil},
		{"unclosed", "<EMAIL_1", "<EMAIL_1", nil},
		{"nested", "<<EMAIL_1>>", "<jane@corp.example>", nil},
		{"html", "<b>bold</b> <EMAIL_2>", "<b>bold</b> bob@corp.example", nil},
		{"strip", "a CANARYTOKEN b <PHONE_NUMBER_1>", "a  b +1 415 555 2671", []string{"CANARYTOKEN"}},
		{"strip partial", "CANARYTOKE", "CANARYTOKE", []string{"CANARYTOKEN"}},
		{"strip twice", "CANARYTOKENCANARYTOKEN", "", []string{"CANARYTOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Restore(v, tt.in, tt.strip...); got != tt.want {
				t.Fatalf("Restore(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// Streamed, split at every pair of offsets.
			for i := 0; i <= len(tt.in); i++ {
				for j := i; j <= len(tt.in); j++ {
					if got := streamed(v, tt.strip, tt.in[:i], tt.in[i:j], tt.in[j:]); got != tt.want {
						t.Fatalf("split %d,%d: %q, want %q", i, j, got, tt.want)
					}
				}
			}
		})
	}
}

func streamed(v *Vault, strip []string, chunks ...string) string {
	r := NewRestorer(v, strip...)
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(r.Write(c))
	}
	b.WriteString(r.Flush())
	return b.String()
}

// TestRestorerHoldsOnlyPrefixes: text that cannot start a placeholder is
// released at once.
func TestRestorerHoldsOnlyPrefixes(t *testing.T) {
	v := testVault()
	r := NewRestorer(v, "CANARY")
	tests := []struct{ in, want string }{
		{"Hello ", "Hello "},
		{"<EMA", ""},
		{"IL_1> x <", "jane@corp.example x "},
		{"b>", "<b>"},
		{"CAN", ""},
		{"DY <PHONE_NUMBER_1", "CANDY "},
		{"2", "<PHONE_NUMBER_12"}, // longer than any placeholder
		{"x<a", "x<a"},
	}
	for _, tt := range tests {
		if got := r.Write(tt.in); got != tt.want {
			t.Fatalf("Write(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := r.Flush(); got != "" {
		t.Fatalf("Flush = %q", got)
	}
}

func TestRestorerInactive(t *testing.T) {
	r := NewRestorer(NewVault())
	if r.Active() {
		t.Fatal("empty restorer is active")
	}
	if got := r.Write("<EMA"); got != "<EMA" {
		t.Fatalf("inactive restorer held %q", got)
	}
}

func FuzzRestorer(f *testing.F) {
	f.Add("Write to <EMAIL_1> or <PHONE_NUMBER_1>, not <EMAIL_3>.", uint8(3), uint8(17))
	f.Add("<<<EMAIL_1>>>CANARYTOKENCANARYTOKE", uint8(1), uint8(2))
	f.Add("", uint8(0), uint8(0))
	v := testVault()
	strip := []string{"CANARYTOKEN"}
	f.Fuzz(func(t *testing.T, s string, a, b uint8) {
		want := Restore(v, s, strip...)
		i, j := int(a)%(len(s)+1), int(b)%(len(s)+1)
		if i > j {
			i, j = j, i
		}
		if got := streamed(v, strip, s[:i], s[i:j], s[j:]); got != want {
			t.Fatalf("split %d,%d of %q: %q, want %q", i, j, s, got, want)
		}
		// Byte by byte.
		r := NewRestorer(v, strip...)
		var out bytes.Buffer
		for k := 0; k < len(s); k++ {
			out.WriteString(r.Write(s[k : k+1]))
		}
		out.WriteString(r.Flush())
		if out.String() != want {
			t.Fatalf("bytewise %q: %q, want %q", s, out.String(), want)
		}
		if !strings.Contains(s, "<") && !strings.Contains(s, "CANARYTOKEN") && want != s {
			t.Fatalf("text without placeholders changed: %q -> %q", s, want)
		}
	})
}

func BenchmarkRestoreStream4K(b *testing.B) {
	v := NewVault()
	for i := 0; i < 8; i++ {
		v.Placeholder("EMAIL", strings.Repeat("x", i)+"@corp.example")
	}
	var sb strings.Builder
	for sb.Len() < 4096 {
		sb.WriteString("The customer at <EMAIL_3> asked about invoice 42; reply to <EMAIL_7> <b>today</b>. ")
	}
	text := sb.String()[:4096]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewRestorer(v, "0123456789abcdef0123456789abcdef")
		for k := 0; k < len(text); k += 16 { // ~4-byte tokens, 4 per event
			r.Write(text[k : k+16])
		}
		r.Flush()
	}
}
