package pii

import (
	"math/bits"
	"net/netip"
	"strings"

	"github.com/rampartsec/rampart/detect"
)

// Byte classes.
const (
	cDigit uint8 = 1 << iota
	cUpper
	cLower
	cSpace
	cLocal  // may appear in an e-mail local part: alnum . _ % + -
	cDomain // may appear in a domain: alnum . -
	cHex    // 0-9 a-f A-F
	cWordP  // '_'

	cAlnum = cDigit | cUpper | cLower
	cWord  = cAlnum | cWordP
)

var class [256]uint8

func init() {
	for c := '0'; c <= '9'; c++ {
		class[c] = cDigit | cLocal | cDomain | cHex
	}
	for c := 'A'; c <= 'Z'; c++ {
		class[c] = cUpper | cLocal | cDomain
	}
	for c := 'a'; c <= 'z'; c++ {
		class[c] = cLower | cLocal | cDomain
	}
	for _, c := range "abcdefABCDEF" {
		class[c] |= cHex
	}
	for _, c := range " \t\n\r\v\f" {
		class[c] = cSpace
	}
	class['.'] = cLocal | cDomain
	class['-'] = cLocal | cDomain
	class['_'] = cLocal | cWordP
	class['%'] = cLocal
	class['+'] = cLocal
}

func isSpace(c byte) bool { return class[c]&cSpace != 0 }
func isDigit(c byte) bool { return c-'0' <= 9 }

type status uint8

const (
	no status = iota
	yes
	more
)

// scanner runs the enabled entity checks over one text. With eof false the
// text may still grow: candidates that run into its end are noted in
// pending instead of being decided.
type scanner struct {
	d       *Detector
	text    string
	eof     bool
	hits    []detect.Hit
	pending int
	addrEnd int // the end of the last street address: numbers inside it start none
}

func (s *scanner) add(e, start, end int, score float64) {
	if s.hits == nil {
		s.hits = make([]detect.Hit, 0, 4)
	}
	s.hits = append(s.hits, detect.Hit{Rule: entities[e].rule, Start: start, End: end, Score: score, Label: entities[e].label})
}

// addLabel adds a hit with its own label (national IDs name their scheme).
func (s *scanner) addLabel(e, start, end int, score float64, label string) {
	if s.hits == nil {
		s.hits = make([]detect.Hit, 0, 4)
	}
	s.hits = append(s.hits, detect.Hit{Rule: entities[e].rule, Start: start, End: end, Score: score, Label: label})
}

func (s *scanner) wait(start int) {
	if start < s.pending {
		s.pending = start
	}
}

// at returns text[i], or 0 outside the text.
func (s *scanner) at(i int) byte {
	if i >= 0 && i < len(s.text) {
		return s.text[i]
	}
	return 0
}

// open reports whether a scan that stopped at j ran into the end of a text
// that may still grow, so that its verdict has to wait.
func (s *scanner) open(j int) bool { return j >= len(s.text) && !s.eof }

// context reports whether one of ws occurs, ignoring ASCII case, in the n
// bytes before i (anywhere: no word boundary is needed, unlike near).
func (s *scanner) context(i, n int, ws *words) bool {
	w := s.text[max(0, i-n):i]
	for a := 0; a < len(w); a++ {
		for _, k := range ws.first[lower(w[a])] {
			if hasPrefixFold(w[a:], k) {
				return true
			}
		}
	}
	return false
}

func (s *scanner) scan() {
	t := s.text
	on := &s.d.on
	if on[eEmail] {
		for i := 0; ; {
			k := strings.IndexByte(t[i:], '@')
			if k < 0 {
				break
			}
			s.email(i + k)
			i += k + 1
		}
	}
	names := on[ePerson]
	nums := on[eCard] || on[eSSN] || on[eIBAN] || on[eIP] || on[ePhone] || on[eDOB] || on[eNationalID] || on[ePassport] || on[eAddress]
	if !names && !nums {
		return
	}
	// One pass for names, numbers and IPv6 addresses around colons: eight
	// bytes at a time to the next byte that may start a name (after the
	// byte before it, nameStarts8), a digit or a colon.
	var nameOn uint64
	next := len(t) // where personAt looks for the next name
	if names {
		nameOn, next = ^uint64(0), 0
	}
	colon := 0 // where ipv6 looks for the next colon
	for i := 0; i < len(t); {
		if i > 0 && i+8 <= len(t) {
			w := t[i-1 : i+8] // the byte before and eight bytes
			cur := load8(w[1:])
			m := nameStarts8(load8(w[:8]), cur)&nameOn | digitOrColon8(cur)
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		switch c := t[i]; {
		case isDigit(c):
			if nums && (i == 0 || !isDigit(t[i-1])) {
				s.digits(i)
			}
			for i < len(t) && isDigit(t[i]) {
				i++
			}
			continue
		case c == ':':
			if on[eIP] && i >= colon {
				colon = s.ipv6(i)
			}
		case names && i >= next && (isUpper(c) || c >= 0xc0) && (i == 0 || nameBefore[t[i-1]]):
			next = s.personAt(i)
		}
		i++
	}
}

// highs has the top bit of each byte of a word set.
const highs = 0x8080808080808080

// digitOrColon8 returns a mask with bit 7 set in the first byte of w that
// is an ASCII digit or a colon, if any (and maybe in later bytes): XOR with
// '0' maps exactly those to bytes below 11, which the word-at-a-time "has
// a byte less than n" test finds, exactly for the first such byte.
func digitOrColon8(w uint64) uint64 {
	const ones = 0x0101010101010101
	x := w ^ (ones * '0')
	return (x - ones*11) &^ x & highs
}

// load8 reads eight bytes as a little-endian word.
func load8(b string) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// digits dispatches on a run of digits that starts at p.
func (s *scanner) digits(p int) {
	on := &s.d.on
	prev, prev2 := s.at(p-1), s.at(p-2)
	if on[eIBAN] && (class[prev]&cUpper != 0 && class[prev2]&cUpper != 0 || class[prev]&cLower != 0 && class[prev2]&cLower != 0) &&
		class[s.at(p-3)]&cWord == 0 {
		s.iban(p - 2)
	}
	// What follows the run of digits decides which of the checks below can
	// match; near the end of a text that may grow, all of them run.
	t := s.text
	q := p
	for q < len(t) && isDigit(t[q]) {
		q++
	}
	w, c, c1 := q-p, s.at(q), s.at(q+1)
	tail := !s.eof && q+2 >= len(t)
	sep := c == ' ' || c == '-' || c == '.' || c == '/'
	if (on[eNationalID] || on[ePassport]) && (class[prev]&cUpper != 0 || class[prev]&cWord == 0) &&
		(tail || class[prev]&cUpper != 0 || w >= 8 || isUpper(c) || w <= 4 && sep && isDigit(c1)) {
		s.ident(p)
	}
	if class[prev]&cWord != 0 {
		return // glued to a word: "abc123", "v1"
	}
	// A date: numeric, a day before a month name (which a complete text
	// must show: "12 March", "12. März", "12th"), or a day after one.
	if on[eDOB] && (tail || w <= 4 && sep && c != ' ' && isDigit(c1) ||
		w <= 2 && (isLetter(c) || (c == ' ' || c == '.') && isLetter(c1) || c == '.' && c1 == ' ' || !s.eof && (c == ' ' || c == '.' || c == ',')) ||
		w <= 2 && prev == ' ' && (isLetter(prev2) || prev2 == '.')) {
		s.dob(p)
	}
	if on[eAddress] && p >= s.addrEnd && (prev == 0 || prev == ' ' || prev == '\n' || prev == ',' || prev == '>' || prev == '\t') &&
		(tail || w <= 5 && (c == ' ' && isLetter(c1) || isUpper(c) && c1 == ' ') ||
			w <= 5 && prev == ' ' && (isLetter(prev2) || prev2 == '.') && (c == 0 || c == ' ' || c == ',' || c == '\n' || isUpper(c) && !isLetter(c1))) {
		s.address(p)
	}
	// Inside a chain of digit groups ("4111 1111 …", "(555) 123-…") or
	// after a decimal point: not the start of a number.
	mid := (prev == ' ' || prev == '-' || prev == '.' || prev == '/' || prev == ',') && (isDigit(prev2) || prev2 == ')')
	if !mid {
		// In a complete text, the shapes that cannot be a card (fewer
		// than 12 or more than 19 digits, no group to follow), an SSN or
		// an IPv4 address are not read again.
		if on[eCard] && (!s.eof || w >= 12 && w <= 19 || (c == ' ' || c == '-') && isDigit(c1)) {
			s.card(p)
		}
		if on[eSSN] && (!s.eof || w == 3 || w == 9) {
			s.ssn(p)
		}
		if on[eIP] && prev != '.' && (!s.eof || w <= 3 && c == '.') {
			s.ipv4(p)
		}
	}
	// A phone number has 7 to 15 digits: a lone run of fewer or more is
	// none.
	if on[ePhone] && (!s.eof || w >= 7 && w <= 15 || phoneSep[c] && (isDigit(c1) || phoneSep[c1])) {
		switch {
		case prev == '+':
			if class[prev2]&cWord == 0 {
				s.phone(p-1, true)
			}
		case prev == '(':
			// Not the "(0)" inside "+41 (0)96 …".
			if class[prev2]&cWord == 0 && !(prev2 == ' ' && isDigit(s.at(p-3))) {
				s.phone(p-1, false)
			}
		case !mid && prev != ')':
			s.phone(p, false)
		}
	}
}

// email checks an e-mail address around the '@' at a: a local part of at
// most 64 bytes and a domain of at most 253 with two or more labels and an
// alphabetic top-level domain.
func (s *scanner) email(a int) {
	t := s.text
	i := a
	for i > 0 && a-i <= 64 && class[t[i-1]]&cLocal != 0 {
		i--
	}
	if a-i > 64 {
		return
	}
	for i < a && (t[i] == '.' || t[i] == '-' || t[i] == '+') {
		i++
	}
	if i == a || t[a-1] == '.' || strings.Contains(t[i:a], "..") {
		return
	}
	j := a + 1
	for j < len(t) && j-a <= 254 && class[t[j]]&cDomain != 0 {
		j++
	}
	if j-a > 254 {
		return
	}
	if s.open(j) {
		s.wait(i)
		return
	}
	e := j
	for e > a+1 && (t[e-1] == '.' || t[e-1] == '-') {
		e--
	}
	if e < j && s.open(j) {
		s.wait(i)
		return
	}
	if !validDomain(t[a+1 : e]) {
		return
	}
	s.add(eEmail, i, e, 0.95)
}

// assetTLDs are file extensions that follow an "@" in asset names
// ("logo@2x.png") more often than they end a domain.
var assetTLDs = [...]string{"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "css", "js", "mjs", "map", "json", "lock"}

func validDomain(d string) bool {
	if len(d) < 4 || len(d) > 253 {
		return false
	}
	labels := 0
	for rest := d; ; {
		k := strings.IndexByte(rest, '.')
		l := rest
		if k >= 0 {
			l = rest[:k]
		}
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		if k < 0 {
			// The top-level domain: letters, or an IDN "xn--…".
			if len(l) < 2 || len(l) > 24 {
				return false
			}
			if !strings.HasPrefix(l, "xn--") {
				for i := 0; i < len(l); i++ {
					if class[l[i]]&(cUpper|cLower) == 0 {
						return false
					}
				}
			}
			for _, a := range assetTLDs {
				if eqFold(l, a) {
					return false
				}
			}
			break
		}
		rest = rest[k+1:]
	}
	return labels >= 2
}

// chain reads groups of digits from p joined by one kind of separator
// (' ' or '-'), at most maxDigits digits in all, into buf. It returns the
// digit count, the group lengths, the end and the status.
func (s *scanner) chain(p int, buf []byte, groups []uint8) (n, ng, end int, st status) {
	t := s.text
	var sep byte
	j := p
	for {
		k := j
		for k < len(t) && isDigit(t[k]) {
			if n == len(buf) {
				return 0, 0, k, no
			}
			buf[n] = t[k]
			n++
			k++
		}
		if ng == len(groups) {
			return 0, 0, k, no
		}
		groups[ng] = uint8(k - j)
		ng++
		j = k
		if s.open(j) {
			return 0, 0, j, more
		}
		if j == len(t) {
			return n, ng, j, yes
		}
		c := t[j]
		if (c == ' ' || c == '-') && (sep == 0 || c == sep) {
			if s.open(j + 1) {
				return 0, 0, j, more
			}
			if isDigit(s.at(j + 1)) {
				sep = c
				j++
				continue
			}
		}
		return n, ng, j, yes
	}
}

// endsNumber reports whether a number may end at j: not followed by a word
// byte or by '.', ',' and a digit. more when that depends on bytes to come.
func (s *scanner) endsNumber(j int) status {
	c := s.at(j)
	if class[c]&cWord != 0 {
		return no
	}
	if c == '.' || c == ',' || c == '-' {
		if s.open(j + 1) {
			return more
		}
		if isDigit(s.at(j + 1)) {
			return no
		}
	}
	return yes
}

var cardContext = newWords("card", "visa", "mastercard", "amex", "credit", "debit", "payment", "cc", "karte", "carte", "tarjeta", "carta", "cartão")

var testCards = [...]string{
	"4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556",
	"5555555555554444", "5105105105105100", "2223003122003222", "378282246310005",
	"371449635398431", "6011111111111117", "6011000990139424", "3530111333300000",
	"3566002020360505", "30569309025904", "38520000023237", "6200000000000005",
}

// card checks a payment card number at p: 12–19 digits, plain or in
// consistent groups, Luhn, and a known issuer range for its length, or
// a card context word before it (twelve-digit numbers need one too).
func (s *scanner) card(p int) {
	var buf [19]byte
	var groups [6]uint8
	n, ng, end, st := s.chain(p, buf[:], groups[:])
	if st == more {
		s.wait(p)
		return
	}
	if st != yes || n < 12 {
		return
	}
	switch b := s.endsNumber(end); b {
	case more:
		s.wait(p)
		return
	case no:
		return
	}
	if ng > 1 && !cardGroups(groups[:ng]) {
		return
	}
	d := buf[:n]
	if allSame(d) || !luhn(d) {
		return
	}
	ctx := s.context(p, lookBehind, cardContext)
	if n == 12 && !ctx {
		return // twelve digits (short Maestro numbers) only when called a card
	}
	score := 0.95
	switch {
	case issuer(d) && ctx:
		score = 1.0
	case issuer(d):
	case ctx:
		// Luhn-valid, outside the ranges known here, but called a card.
		score = 0.8
	default:
		return
	}
	for _, tc := range testCards {
		if string(d) == tc {
			score = 0.6
		}
	}
	s.add(eCard, p, end, score)
}

// cardGroups accepts 4-4-4-4 style groups (the last one 1–4 digits long,
// four groups or more) and the 4-6-5 and 4-6-4 groups of Amex and Diners.
func cardGroups(g []uint8) bool {
	if len(g) == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4) {
		return true
	}
	if len(g) < 4 {
		return false
	}
	for _, x := range g[:len(g)-1] {
		if x != 4 {
			return false
		}
	}
	last := g[len(g)-1]
	return last >= 1 && last <= 4
}

func allSame(d []byte) bool {
	for _, c := range d[1:] {
		if c != d[0] {
			return false
		}
	}
	return true
}

// luhn reports whether the digits pass the Luhn check.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

func prefix(d []byte, n int) int {
	v := 0
	for _, c := range d[:n] {
		v = v*10 + int(c-'0')
	}
	return v
}

// issuer reports whether the number falls in a card network's range with a
// length that network issues.
func issuer(d []byte) bool {
	n := len(d)
	p2, p3, p4, p6 := prefix(d, 2), prefix(d, 3), prefix(d, 4), prefix(d, 6)
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925: // Discover
		return n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16 && n <= 19
	case p4 == 1800 || p4 == 2131: // JCB's older 15-digit numbers
		return n == 15
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return n >= 14 && n <= 19
	case p2 == 62, p2 == 81: // UnionPay
		return n >= 16 && n <= 19
	case p2 == 50, p2 >= 56 && p2 <= 58, p2 == 67, p4 == 6304: // Maestro
		return n >= 12 && n <= 19
	}
	return false
}

var ssnContext = newWords("ssn", "social security", "social-security", "ss#", "ss #", "ss no")

// ssn checks a US social security number at p: ddd-dd-dddd (or with
// spaces), or nine digits with a context word before it.
func (s *scanner) ssn(p int) {
	t := s.text
	var d [9]byte
	n := 0
	j := p
	var sep byte
	for g, want := range [...]int{3, 2, 4} {
		k := j
		for k < len(t) && isDigit(t[k]) && k-j <= 9 {
			k++
		}
		if s.open(k) {
			s.wait(p)
			return
		}
		got := k - j
		if g == 0 && got == 9 {
			copy(d[:], t[j:k])
			n = 9
			j = k
			break
		}
		if got != want {
			return
		}
		copy(d[n:], t[j:k])
		n += got
		j = k
		if g == 2 {
			break
		}
		c := s.at(j)
		if c != '-' && c != ' ' || sep != 0 && c != sep {
			return
		}
		sep = c
		j++
	}
	if n != 9 {
		return
	}
	switch s.endsNumber(j) {
	case more:
		s.wait(p)
		return
	case no:
		return
	}
	if c := s.at(j); c == ' ' && sep == ' ' {
		// "123 45 6789 0": the groups may go on.
		if s.open(j + 1) {
			s.wait(p)
			return
		}
		if isDigit(s.at(j + 1)) {
			return
		}
	}
	area, group, serial := prefix(d[:], 3), prefix(d[3:], 2), prefix(d[5:], 4)
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return
	}
	switch string(d[:]) {
	case "078051120", "219099999", "123456789":
		return // published or placeholder numbers
	}
	ctx := s.context(p, 48, ssnContext)
	switch {
	case sep == '-' && ctx:
		s.add(eSSN, p, j, 0.95)
	case sep == '-':
		s.add(eSSN, p, j, 0.7)
	case ctx:
		s.add(eSSN, p, j, 0.85)
	}
}

// ibanLen is the length of each country's IBAN (SWIFT IBAN registry, and
// the countries that issue IBANs outside it).
var ibanLen = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
	"BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
	"DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
	"GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
	"MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
	// Not in the registry, but issued in the same form.
	"AO": 25, "BF": 28, "BJ": 28, "CF": 27, "CG": 27, "CI": 28, "CM": 27, "CV": 25, "DZ": 26,
	"GA": 27, "GQ": 27, "GW": 25, "IR": 26, "KM": 27, "MA": 28, "MG": 27, "ML": 28, "MZ": 25,
	"NE": 28, "SN": 28, "TD": 27, "TG": 28,
}

// iban checks an IBAN at p: country code, check digits, the country's
// length, written plain or in groups of four (spaces or hyphens), in upper
// or lower case, and mod-97.
func (s *scanner) iban(p int) {
	t := s.text
	lowerCase := class[t[p]]&cLower != 0
	cc := [2]byte{t[p], t[p+1]}
	if lowerCase {
		cc[0], cc[1] = cc[0]-'a'+'A', cc[1]-'a'+'A'
	}
	want := ibanLen[string(cc[:])]
	if want == 0 {
		return
	}
	letter := cUpper
	if lowerCase {
		letter = cLower
	}
	var buf [34]byte
	var sep byte
	n := 0
	j := p
	for n < want {
		if s.open(j) {
			s.wait(p)
			return
		}
		if j == len(t) {
			return
		}
		c := t[j]
		switch {
		case class[c]&(letter|cDigit) != 0:
			if lowerCase && class[c]&cLower != 0 {
				c -= 'a' - 'A'
			}
			buf[n] = c
			n++
			j++
		case (c == ' ' || c == '-') && (sep == 0 || c == sep) && n%4 == 0 && n > 0 && j > p && t[j-1] != c:
			sep = c
			j++
		default:
			return
		}
	}
	if !isDigit(buf[2]) || !isDigit(buf[3]) {
		return
	}
	if s.open(j) {
		s.wait(p)
		return
	}
	if class[s.at(j)]&cWord != 0 {
		return
	}
	if !mod97(buf[:n]) {
		return
	}
	s.add(eIBAN, p, j, 0.95)
}

// mod97 reports whether an IBAN's check digits are right (ISO 7064).
func mod97(b []byte) bool {
	r := 0
	step := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	for _, c := range b[4:] {
		step(c)
	}
	for _, c := range b[:4] {
		step(c)
	}
	return r == 1
}

// ipv6Byte reports whether c may be part of an IPv6 address: a hex
// digit, ':' or '.'.
func ipv6Byte(c byte) bool { return class[c]&cHex != 0 || c == ':' || c == '.' }

// versionContext rules out dotted quads that follow "version".
var versionContext = newWords("version")

// special are IPv4 ranges that identify no one: shared address space,
// documentation, benchmarking, reserved.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("3fff::/20"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// public reports whether an address could identify someone: a global
// unicast address outside the private and special ranges.
func (s *scanner) public(a netip.Addr) bool {
	if s.d.includePrivate {
		return true
	}
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range special {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// ipv4 checks a dotted-quad address at p. Dotted numbers with more or fewer
// parts (versions such as 1.2.3, OIDs) are not addresses.
func (s *scanner) ipv4(p int) {
	t := s.text
	j := p
	for part := 0; part < 4; part++ {
		k := j
		for k < len(t) && isDigit(t[k]) && k-j <= 3 {
			k++
		}
		if s.open(k) {
			s.wait(p)
			return
		}
		if k == j || k-j > 3 {
			return
		}
		j = k
		if part < 3 {
			if s.at(j) != '.' {
				return
			}
			j++
		}
	}
	switch s.endsNumber(j) {
	case more:
		s.wait(p)
		return
	case no:
		return
	}
	if s.at(j) == '.' && isDigit(s.at(j+1)) {
		return
	}
	a, err := netip.ParseAddr(t[p:j])
	if err != nil || !s.public(a) || s.context(p, 16, versionContext) {
		return
	}
	s.add(eIP, p, j, 0.9)
}

// ipv6 checks the run of hex digits, colons and dots around the ':' at c
// and returns where to look for the next colon.
func (s *scanner) ipv6(c int) int {
	t := s.text
	if c+1 < len(t) && !ipv6Byte(t[c+1]) && (c == 0 || !ipv6Byte(t[c-1])) {
		return c + 1 // a lone colon ("key: value", ":=")
	}
	const maxLen = 45
	a := c
	for a > 0 && c-a <= maxLen {
		if ch := t[a-1]; class[ch]&cHex == 0 && ch != ':' && ch != '.' {
			break
		}
		a--
	}
	b := c + 1
	for b < len(t) && b-a <= maxLen+1 && (class[t[b]]&cHex != 0 || t[b] == ':' || t[b] == '.') {
		b++
	}
	if b-a > maxLen {
		return b
	}
	if s.open(b) {
		s.wait(a)
		return b
	}
	e := b
	for e > a && t[e-1] == '.' {
		e--
	}
	if class[s.at(a-1)]&cWord != 0 || class[s.at(b)]&cWord != 0 || strings.Count(t[a:e], ":") < 2 {
		return b
	}
	addr, err := netip.ParseAddr(t[a:e])
	if err != nil || !addr.Is6() || !s.public(addr) {
		return b
	}
	s.add(eIP, a, e, 0.9)
	return b
}

var (
	phoneContext = newWords("phone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "sms", "text me", "dial", "contact", "reach me", "messag", "handy", "téléphone", "portable", "teléfono", "móvil", "telefono", "cellulare", "telefone", "celular", "телефон")
	notPhone     = newWords("order", "invoice", "ref", "tracking", "account", "acct", " id", "id:", "#", "no.", "serial", "isbn", "ticket", "case")
)

// phoneSep marks the bytes that separate the digits of a phone number.
var phoneSep = [256]bool{' ': true, '-': true, '.': true, '/': true, '(': true, ')': true}

// phone checks a phone number at p: "+CC …" (intl) for any region, or a
// national number in one of the configured regions. A number that
// libphonenumber cannot confirm is still reported, with a lower score,
// when a phone context word comes before it and it is written in groups
// like a phone number. An extension ("x123", "ext. 123") is part of the
// number.
func (s *scanner) phone(p int, intl bool) {
	t := s.text
	j := p
	if intl {
		j++
	}
	digits, seps, nsep := 0, 0, 0
	var groups [8]uint8
	var gsep [8]byte
	ng, glen := 0, 0
	for j < len(t) && j-p <= 32 {
		c := t[j]
		if isDigit(c) {
			digits++
			glen++
			seps = 0
		} else if phoneSep[c] {
			seps++
			if seps > 2 {
				break
			}
			nsep++
			if glen > 0 {
				if ng == len(groups) {
					return
				}
				groups[ng] = uint8(glen)
				gsep[ng] = c
				ng++
				glen = 0
			}
		} else {
			break
		}
		j++
	}
	if j-p > 32 || s.eof && (digits < 7 || digits > 15) {
		return // too long; too short or long (decided below when holding)
	}
	if s.open(j) {
		s.wait(p)
		return
	}
	if glen > 0 && ng < len(groups) {
		groups[ng] = uint8(glen)
		ng++
	}
	e := j
	for e > p && phoneSep[t[e-1]] && t[e-1] != ')' {
		e--
	}
	end := e // the end of the hit, past an extension
	if x := s.extension(e); x > e {
		end = x
	} else if x < 0 {
		s.wait(p)
		return
	}
	if class[s.at(end)]&cWord != 0 {
		return // glued to a word
	}
	if digits < 7 || digits > 15 || !s.eof {
		return // too short or long, or only holding: no need to parse
	}
	num := t[p:e]
	g := groups[:ng]
	if ng >= 3 && gsep[0] == gsep[1] && gsep[0] != ' ' && numericDate(num) || // 2015-12-22, 6/24/1991
		ng == 4 && strings.Count(num, ".") == 3 || // an IPv4 address, a CPF
		ng == 4 && gsep[0] == '.' && gsep[1] == '.' && gsep[2] == '-' {
		return
	}
	ctx := s.context(p, 48, phoneContext)
	if intl {
		if validPhone(num, "") {
			score := 0.9
			if ctx {
				score = 0.95
			}
			s.add(ePhone, p, end, score)
		} else if ctx && phoneGroups(g) {
			s.add(ePhone, p, end, 0.6)
		}
		return
	}
	switch {
	case ng <= 2 && !ctx, // a bare run of digits is more often an ID, two groups an address
		ng == 3 && g[0] == 3 && g[1] == 2 && g[2] == 4: // SSN-shaped
		return
	}
	if !ctx && s.context(p, 24, notPhone) {
		return
	}
	for _, r := range s.d.regions {
		if validPhone(num, r) {
			score := 0.7
			if ctx {
				score = 0.9
			}
			s.add(ePhone, p, end, score)
			return
		}
	}
	if ctx && phoneGroups(g) {
		s.add(ePhone, p, end, 0.6)
	}
}

// phoneGroups reports whether digit groups look like a phone number
// written by a person: one run of 7 to 12 digits, or two or more groups
// of at most five digits (the first may be longer).
func phoneGroups(g []uint8) bool {
	switch len(g) {
	case 1:
		return g[0] >= 7 && g[0] <= 12
	case 2: // an area code and a subscriber number
		return g[0] <= 5 && g[1] <= 8
	}
	for _, n := range g[1:] {
		if n > 5 {
			return false
		}
	}
	return g[0] <= 7
}

// extension returns the end of a phone extension ("x123", " ext. 123",
// "ext123") that starts at e, e when there is none, and -1 when that
// depends on text still to come.
func (s *scanner) extension(e int) int {
	t := s.text
	j := e
	if s.at(j) == ' ' {
		j++
	}
	switch {
	case s.at(j) == 'x' || s.at(j) == 'X':
		j++
	case j+3 <= len(t) && eqFold(t[j:j+3], "ext"):
		j += 3
		if s.at(j) == '.' {
			j++
		}
		if s.at(j) == ' ' {
			j++
		}
	default:
		if rest := t[j:]; !s.eof && len(rest) < 3 && eqFold(rest, "ext"[:len(rest)]) {
			return -1
		}
		return e
	}
	k := j
	for k < len(t) && isDigit(t[k]) && k-j <= 6 {
		k++
	}
	if s.open(k) {
		return -1
	}
	if k == j || k-j > 6 || class[s.at(k)]&cWord != 0 {
		return e
	}
	return k
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func eqFold(a, b string) bool { return len(a) == len(b) && strings.EqualFold(a, b) }
