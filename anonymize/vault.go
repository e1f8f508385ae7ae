// Package anonymize replaces sensitive values with stand-ins and puts them
// back: stable placeholders such as "<EMAIL_1>" kept in a per-request Vault
// and restored in the answer (Restore, and Restorer for streamed answers,
// which holds back only a possible placeholder prefix), keyed hashes such as
// "[EMAIL:3f9a1c2e]" (Hasher), and realistic synthetic values of the same
// kind and shape (Faker). A Session bundles the three for one request.
//
// Nothing here depends on which detector found a value beyond the hit's
// Label ("EMAIL", "PHONE_NUMBER", …).
package anonymize

import (
	"strconv"
	"strings"
)

// Vault maps the values of one request to placeholders and back. The same
// value always gets the same placeholder, whatever its label the second
// time. A Vault holds the original values: it must never be logged or
// stored. It is not safe for concurrent use.
type Vault struct {
	byValue map[string]string
	byToken map[string]string
	counts  map[string]int
	maxLen  int
}

// NewVault returns an empty vault.
func NewVault() *Vault {
	return &Vault{}
}

// Placeholder returns the placeholder of value, creating "<LABEL_N>" (N
// counting from 1 per label) the first time value is seen. The label is
// upper-cased and any byte other than A-Z, 0-9 and "_" becomes "_"; an
// empty label gives "VALUE".
func (v *Vault) Placeholder(label, value string) string {
	if p, ok := v.byValue[value]; ok {
		return p
	}
	if v.byValue == nil {
		v.byValue = make(map[string]string)
		v.byToken = make(map[string]string)
		v.counts = make(map[string]int)
	}
	l := cleanLabel(label)
	v.counts[l]++
	p := "<" + l + "_" + strconv.Itoa(v.counts[l]) + ">"
	v.byValue[value] = p
	v.byToken[p] = value
	v.maxLen = max(v.maxLen, len(p))
	return p
}

// Lookup returns the value behind a placeholder.
func (v *Vault) Lookup(placeholder string) (string, bool) {
	s, ok := v.byToken[placeholder]
	return s, ok
}

// Len is the number of values in the vault.
func (v *Vault) Len() int { return len(v.byToken) }

// MaxLen is the length in bytes of the longest placeholder (0 when empty).
func (v *Vault) MaxLen() int { return v.maxLen }

// cleanLabel turns a hit label into the name part of a placeholder.
func cleanLabel(label string) string {
	if label == "" {
		return "VALUE"
	}
	ok := true
	for i := 0; i < len(label); i++ {
		if !isTokenByte(label[i]) {
			ok = false
			break
		}
	}
	if ok {
		return label
	}
	var b strings.Builder
	b.Grow(len(label))
	for i := 0; i < len(label); i++ {
		c := label[i]
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		case isTokenByte(c):
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// isTokenByte reports whether c may appear between a placeholder's angle
// brackets.
func isTokenByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
