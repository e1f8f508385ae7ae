package anonymize

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
)

// Faker makes synthetic values of the same kind and shape as the ones they
// replace, chosen deterministically per value from its seed: the same value
// gets the same fake from one Faker. The fakes are drawn from reserved or
// documented ranges so they can never be someone's real data:
//
//   - EMAIL: first.last@example.com (RFC 2606 reserves example.com);
//   - PHONE_NUMBER: 555-01XX numbers (reserved for fiction in the North
//     American plan), or Ofcom's drama range 020 7946 0XXX for UK-shaped
//     numbers (starting with +44 or 0);
//   - CREDIT_CARD: the card networks' documented test numbers (Luhn-valid),
//     of the brand the first digit shows, grouped like the original;
//   - US_SSN: 9XX-XX-XXXX (area numbers 900-999 are never issued), with the
//     original's separators;
//   - IBAN: the original's country and length, bank code all zeros (digits)
//     or "X" (letters), random account digits and valid check digits;
//   - IP_ADDRESS: the documentation ranges 192.0.2.0/24 and 2001:db8::/32;
//   - PERSON or NAME: names from a short fictitious list.
//
// Any other label is masked as "[REDACTED:LABEL]". A Faker is not safe for
// concurrent use.
type Faker struct {
	seed []byte
	memo map[string]string
}

// NewFaker returns a faker with the given seed; nil draws a random one.
func NewFaker(seed []byte) *Faker {
	if seed == nil {
		seed = make([]byte, 32)
		_, _ = rand.Read(seed)
	}
	return &Faker{seed: seed, memo: make(map[string]string)}
}

// Fake returns the synthetic stand-in for value.
func (f *Faker) Fake(label, value string) string {
	k := label + "\x00" + value
	if s, ok := f.memo[k]; ok {
		return s
	}
	m := hmac.New(sha256.New, f.seed)
	m.Write([]byte(k))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	r := &draw{b: sum[:]}
	var s string
	switch label {
	case "EMAIL":
		s = strings.ToLower(firstNames[r.n(len(firstNames))] + "." + lastNames[r.n(len(lastNames))] + "@example.com")
	case "PHONE_NUMBER", "PHONE":
		s = fakePhone(r, value)
	case "CREDIT_CARD":
		s = fakeCard(r, value)
	case "US_SSN", "SSN":
		s = fakeSSN(r, value)
	case "IBAN":
		s = fakeIBAN(r, value)
	case "IP_ADDRESS", "IP":
		if strings.Contains(value, ":") {
			s = "2001:db8::" + strconv.FormatUint(uint64(1+r.n(0xfffe)), 16)
		} else {
			s = "192.0.2." + strconv.Itoa(1+r.n(254))
		}
	case "PERSON", "NAME":
		s = firstNames[r.n(len(firstNames))] + " " + lastNames[r.n(len(lastNames))]
	default:
		s = MaskOf(label)
	}
	f.memo[k] = s
	return s
}

// draw hands out pseudo-random numbers from a hash, rehashing when used up.
type draw struct {
	b []byte
}

func (d *draw) n(k int) int {
	if k <= 1 {
		return 0
	}
	if len(d.b) < 4 {
		s := sha256.Sum256(d.b)
		d.b = s[:]
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return int(v % uint32(k))
}

func (d *draw) digit() byte { return byte('0' + d.n(10)) }

// reshape writes digits into the positions of the original's digits and
// copies its other bytes; when the digit counts differ, digits are used
// as they are.
func reshape(orig, digits string) string {
	n := 0
	for i := 0; i < len(orig); i++ {
		if orig[i] >= '0' && orig[i] <= '9' {
			n++
		}
	}
	if n != len(digits) {
		return digits
	}
	b := []byte(orig)
	j := 0
	for i := range b {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = digits[j]
			j++
		}
	}
	return string(b)
}

func fakePhone(r *draw, value string) string {
	v := strings.TrimSpace(value)
	tail := string([]byte{r.digit(), r.digit(), r.digit()})
	switch {
	case strings.HasPrefix(v, "+44"):
		return "+44 20 7946 0" + tail
	case strings.HasPrefix(v, "0"):
		return "020 7946 0" + tail
	case strings.HasPrefix(v, "+"):
		return "+1 202-555-01" + tail[1:]
	}
	return "202-555-01" + tail[1:]
}

// testCards are documented payment test numbers, by first digit.
var testCards = map[byte][]string{
	'3': {"378282246310005", "371449635398431", "3056930009020004"},
	'4': {"4111111111111111", "4012888888881881", "4000056655665556"},
	'5': {"5555555555554444", "5105105105105100", "5200828282828210"},
	'6': {"6011111111111117", "6011000990139424"},
	'2': {"2223003122003222"},
}

func fakeCard(r *draw, value string) string {
	first := byte('4')
	for i := 0; i < len(value); i++ {
		if value[i] >= '0' && value[i] <= '9' {
			first = value[i]
			break
		}
	}
	list, ok := testCards[first]
	if !ok {
		list = testCards['4']
	}
	k := r.n(len(list))
	out := reshape(value, list[k])
	if out == value { // the value was a test number itself
		out = reshape(value, list[(k+1)%len(list)])
	}
	return out
}

func fakeSSN(r *draw, value string) string {
	d := []byte{'9', r.digit(), r.digit(), byte('1' + r.n(9)), r.digit(), byte('1' + r.n(9)), r.digit(), r.digit(), r.digit()}
	return reshape(value, string(d))
}

func fakeIBAN(r *draw, value string) string {
	var compact []byte
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c >= 'a' && c <= 'z':
			compact = append(compact, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			compact = append(compact, c)
		}
	}
	if len(compact) < 8 {
		return MaskOf("IBAN")
	}
	country := string(compact[:2])
	bban := compact[4:]
	out := make([]byte, len(bban))
	for i, c := range bban {
		switch {
		case c >= 'A' && c <= 'Z':
			out[i] = 'X'
		case i < 4:
			out[i] = '0'
		default:
			out[i] = r.digit()
		}
	}
	check := ibanCheck(country, out)
	s := country + check + string(out)
	if strings.ContainsRune(value, ' ') {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if i > 0 && i%4 == 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	return s
}

// ibanCheck computes the two check digits of an IBAN (ISO 13616, mod 97).
func ibanCheck(country string, bban []byte) string {
	rem := 0
	add := func(c byte) {
		if c >= 'A' && c <= 'Z' {
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
			return
		}
		rem = (rem*10 + int(c-'0')) % 97
	}
	for _, c := range bban {
		add(c)
	}
	for i := 0; i < len(country); i++ {
		add(country[i])
	}
	add('0')
	add('0')
	check := 98 - rem
	if check < 10 {
		return "0" + strconv.Itoa(check)
	}
	return strconv.Itoa(check)
}

// IBANValid reports whether s (spaces allowed) has valid IBAN check digits.
func IBANValid(s string) bool {
	var c []byte
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == ' ':
		case b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
			c = append(c, b)
		default:
			return false
		}
	}
	if len(c) < 5 {
		return false
	}
	return ibanCheck(string(c[:2]), c[4:]) == string(c[2:4])
}

// firstNames and lastNames are invented for this package.
var firstNames = []string{"Avery", "Blake", "Corin", "Dalia", "Emrys", "Fenna", "Galen", "Hollis", "Ilsa", "Jory", "Kestrel", "Lumi", "Marlo", "Nell", "Orrin", "Pella"}

var lastNames = []string{"Ashdown", "Brackwell", "Cindergrove", "Dunmore", "Eastvale", "Fernsby", "Gallowmere", "Hartsell", "Ivybridge", "Juniperton", "Kettlewick", "Larkmoor", "Mistlecombe", "Northwold", "Oakhollow", "Pembrake"}
