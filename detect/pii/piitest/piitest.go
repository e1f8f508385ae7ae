// Package piitest makes fake personal data that passes the pii detector's
// validators (Luhn, issuer ranges, mod-97, SSN rules), for tests. None of it
// belongs to anyone.
package piitest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Gen makes fake personal data from a deterministic random source.
type Gen struct{ r *rand.Rand }

// New returns a generator seeded with seed.
func New(seed uint64) *Gen { return &Gen{rand.New(rand.NewPCG(seed, seed^0x51ed270b27f5a1c3))} }

// Intn returns a random int in [0, n).
func (g *Gen) Intn(n int) int { return g.r.IntN(n) }

func (g *Gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// Card returns a Luhn-valid card number with the given issuer prefix and
// length, e.g. Card("4", 16) for a Visa number.
func (g *Gen) Card(prefix string, n int) string {
	for {
		body := prefix + g.digits(n-len(prefix)-1)
		s := body + string(rune('0'+LuhnDigit(body)))
		if strings.Count(s, s[:1]) != len(s) {
			return s
		}
	}
}

// LuhnDigit returns the check digit that makes body+digit pass Luhn.
func LuhnDigit(body string) int {
	sum := 0
	double := true
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return (10 - sum%10) % 10
}

// Group writes a number in groups of four joined by sep.
func Group(s, sep string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), sep)
}

// IBAN returns a valid IBAN for country cc with a BBAN of n-4 digits.
func (g *Gen) IBAN(cc string, n int) string {
	bban := g.digits(n - 4)
	return cc + fmt.Sprintf("%02d", IBANCheck(cc, bban)) + bban
}

// IBANCheck computes the two check digits for a country and BBAN.
func IBANCheck(cc, bban string) int {
	r := 0
	for _, c := range bban + cc + "00" {
		if c >= '0' && c <= '9' {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return 98 - r
}

// SSN returns a valid-looking SSN, ddd-dd-dddd.
func (g *Gen) SSN() string {
	area := 1 + g.r.IntN(899)
	if area == 666 {
		area = 665
	}
	return fmt.Sprintf("%03d-%02d-%04d", area, 1+g.r.IntN(99), 1+g.r.IntN(9999))
}

// Email returns a plausible address.
func (g *Gen) Email() string {
	users := []string{"jane.doe", "j.smith+news", "ops_team", "m.muller", "a.b-c"}
	domains := []string{"example.com", "mail.example.org", "corp.example.co.uk", "example.net"}
	return users[g.r.IntN(len(users))] + strconv.Itoa(g.r.IntN(100)) + "@" + domains[g.r.IntN(len(domains))]
}

// PublicIPv4 returns an address outside private and special ranges.
func (g *Gen) PublicIPv4() string {
	firsts := []int{8, 23, 34, 52, 81, 104, 151, 185, 212}
	return fmt.Sprintf("%d.%d.%d.%d", firsts[g.r.IntN(len(firsts))], g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}
