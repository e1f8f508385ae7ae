package pii

// Checksum and structure validators for national identifiers. Each takes
// the identifier without separators, in upper case.

// esDNI checks a Spanish DNI: eight digits and the mod-23 letter.
func esDNI(s string) bool {
	if len(s) != 9 || !allDigits(s[:8]) {
		return false
	}
	return s[8] == dniLetters[atoi(s[:8])%23]
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// esNIE checks a Spanish foreigner's number: X, Y or Z (for 0, 1, 2),
// seven digits and the mod-23 letter.
func esNIE(s string) bool {
	if len(s) != 9 || !allDigits(s[1:8]) {
		return false
	}
	var lead int
	switch s[0] {
	case 'X':
	case 'Y':
		lead = 1
	case 'Z':
		lead = 2
	default:
		return false
	}
	return s[8] == dniLetters[(lead*10000000+atoi(s[1:8]))%23]
}

// ukNINO checks a UK National Insurance number's structure (it has no
// check digit): two prefix letters (not D, F, I, Q, U or V; the second not
// O; not BG, GB, KN, NK, NT, TN or ZZ), six digits and a suffix A–D.
func ukNINO(s string) bool {
	if len(s) == 8 { // the suffix may be left out
		s += "A"
	}
	if len(s) != 9 || !allDigits(s[2:8]) || s[8] < 'A' || s[8] > 'D' {
		return false
	}
	a, b := s[0], s[1]
	if !isUpper(a) || !isUpper(b) {
		return false
	}
	for _, c := range "DFIQUV" {
		if a == byte(c) || b == byte(c) {
			return false
		}
	}
	if b == 'O' {
		return false
	}
	switch s[:2] {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	return true
}

// itFiscalCode checks an Italian codice fiscale: surname and name codes
// (consonants, then vowels, then X padding), birth year, month letter and
// day (plus 40 for women) with omocodia substitutions allowed, the place
// code and the check letter.
func itFiscalCode(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, part := range [2]string{s[0:3], s[3:6]} {
		if !cfNamePart(part) {
			return false
		}
	}
	var digits [7]int
	for k, i := range [7]int{6, 7, 9, 10, 12, 13, 14} {
		v, ok := cfDigit(s[i])
		if !ok {
			return false
		}
		digits[k] = v
	}
	if !isUpper(s[8]) || !isUpper(s[11]) || !isUpper(s[15]) {
		return false
	}
	month := indexByte("ABCDEHLMPRST", s[8]) + 1
	if month == 0 {
		return false
	}
	day := digits[2]*10 + digits[3]
	if day > 40 {
		day -= 40
	}
	year := digits[0]*10 + digits[1]
	if day < 1 || day > daysIn(2000+year, month) {
		return false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		sum += cfValue(i, s[i])
	}
	if s[15] == byte('A'+sum%26) {
		return true
	}
	// validator.js, and some issuers' software, compute the check letter
	// after turning omocodia letters back into digits.
	sum = 0
	for i := 0; i < 15; i++ {
		c := s[i]
		if !isUpper(c) || i < 6 || i == 8 || i == 11 {
			sum += cfValue(i, c)
			continue
		}
		v, _ := cfDigit(c)
		sum += cfValue(i, byte('0'+v))
	}
	return s[15] == byte('A'+sum%26)
}

// cfValue is the weight of character c at 0-based position i of a codice
// fiscale.
func cfValue(i int, c byte) int {
	if i%2 == 0 { // odd positions, 1-based
		if isDigit(c) {
			return cfOdd[c-'0']
		}
		return cfOdd[10+c-'A']
	}
	if isDigit(c) {
		return int(c - '0')
	}
	return int(c - 'A')
}

var cfOdd = [36]int{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, // A-Z
}

// cfDigit reads a digit of a codice fiscale, or its omocodia letter.
func cfDigit(c byte) (int, bool) {
	if isDigit(c) {
		return int(c - '0'), true
	}
	if i := indexByte("LMNPQRSTUV", c); i >= 0 {
		return i, true
	}
	return 0, false
}

func cfNamePart(p string) bool {
	const (
		cons = iota
		vow
		pad
	)
	state := cons
	for i := 0; i < 3; i++ {
		c := p[i]
		if !isUpper(c) {
			return false
		}
		var k int
		switch {
		case c == 'X' && i > 0:
			k = pad
		case indexByte("AEIOU", c) >= 0:
			k = vow
		default:
			k = cons
		}
		if k < state {
			return false
		}
		state = k
	}
	return true
}

// frNIR checks a French social security number (NIR): sex 1, 2, 3, 4, 7
// or 8, year, month (01–12, or 20 and over when unknown), department
// (2A and 2B for Corsica), commune, order and the mod-97 key.
func frNIR(s string) bool {
	if len(s) != 15 || !allDigits(s[:5]) || !allDigits(s[7:]) {
		return false
	}
	if indexByte("123478", s[0]) < 0 {
		return false
	}
	if m := atoi(s[3:5]); m == 0 || m > 12 && m < 20 {
		return false
	}
	var n int64
	switch s[5:7] {
	case "2A", "2B":
		// Corsica: 2A counts as 19, 2B as 18 in the key.
		dep := int64(19)
		if s[6] == 'B' {
			dep = 18
		}
		n = atoi64(s[:5])*1e8 + dep*1e6 + atoi64(s[7:13])
	default:
		if !allDigits(s[5:7]) {
			return false
		}
		n = atoi64(s[:13])
	}
	return 97-n%97 == atoi64(s[13:])
}

// nlBSN checks a Dutch citizen service number with the 11-test.
func nlBSN(s string) bool {
	if len(s) != 9 || !allDigits(s) || s == "000000000" {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += (9 - i) * int(s[i]-'0')
	}
	sum -= int(s[8] - '0')
	return sum%11 == 0
}

// deTaxID checks a German tax identification number (Steuer-ID): eleven
// digits, no leading zero, in the first ten exactly one digit repeated
// (twice, or three times but not three in a row) and the ISO 7064
// MOD 11,10 check digit.
func deTaxID(s string) bool {
	if len(s) != 11 || !allDigits(s) || s[0] == '0' {
		return false
	}
	var count [10]int
	for i := 0; i < 10; i++ {
		count[s[i]-'0']++
	}
	repeated := 0
	for _, c := range count {
		switch {
		case c == 2 || c == 3:
			repeated++
		case c > 3:
			return false
		}
	}
	if repeated != 1 {
		return false
	}
	for i := 0; i+2 < 10; i++ {
		if s[i] == s[i+1] && s[i] == s[i+2] {
			return false
		}
	}
	p := 10
	for i := 0; i < 10; i++ {
		v := (int(s[i]-'0') + p) % 10
		if v == 0 {
			v = 10
		}
		p = 2 * v % 11
	}
	check := 11 - p
	if check == 10 {
		check = 0
	}
	return int(s[10]-'0') == check
}

// brCPF checks a Brazilian CPF: eleven digits, not all the same, and two
// mod-11 check digits.
func brCPF(s string) bool {
	if len(s) != 11 || !allDigits(s) || allSame([]byte(s)) {
		return false
	}
	for _, n := range [2]int{9, 10} {
		sum := 0
		for i := 0; i < n; i++ {
			sum += int(s[i]-'0') * (n + 1 - i)
		}
		if d := sum * 10 % 11 % 10; d != int(s[n]-'0') {
			return false
		}
	}
	return true
}

// inAadhaar checks an Indian Aadhaar number: twelve digits, the first 2–9,
// and the Verhoeff check digit.
func inAadhaar(s string) bool {
	if len(s) != 12 || !allDigits(s) || s[0] < '2' {
		return false
	}
	c := 0
	for i := 0; i < 12; i++ {
		c = verhoeffD[c][verhoeffP[i%8][s[11-i]-'0']]
	}
	return c == 0
}

var verhoeffD = [10][10]int{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
	{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
	{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
	{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
	{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
}

var verhoeffP = [8][10]int{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
	{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
	{9, 4, 5, 3, 1, 2, 7, 6, 0, 8}, {4, 2, 8, 6, 5, 7, 3, 9, 1, 0},
	{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
}

// cnResidentID checks a Chinese resident identity number: 18 characters
// (a province code, a birth date and the ISO 7064 MOD 11-2 check
// character, 0–9 or X), or the older 15 digits (a province code and a
// birth date in the 1900s, no check character).
func cnResidentID(s string) bool {
	switch len(s) {
	case 18:
		if !allDigits(s[:17]) || !cnProvince(s[:2]) || !validDate(atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])) || atoi(s[6:10]) < 1900 {
			return false
		}
		sum := 0
		for i := 0; i < 17; i++ {
			sum += int(s[i]-'0') * (1 << (17 - i) % 11)
		}
		return s[17] == "10X98765432"[sum%11]
	case 15:
		return allDigits(s) && cnProvince(s[:2]) && validDate(1900+atoi(s[6:8]), atoi(s[8:10]), atoi(s[10:12]))
	}
	return false
}

func cnProvince(p string) bool {
	switch atoi(p) {
	case 11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
		50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91:
		return true
	}
	return false
}

// caSIN checks a Canadian social insurance number: nine digits, not all
// the same, passing Luhn.
func caSIN(s string) bool {
	return len(s) == 9 && allDigits(s) && !allSame([]byte(s)) && luhn([]byte(s))
}

// passportFormats are the passport-number formats of the countries known
// here, by ISO 3166 code (formats only: passports have no public check
// digit outside the machine-readable zone).
var passportFormats = map[string]func(string) bool{
	"US": func(s string) bool { return shape(s, "999999999") || shape(s, "A99999999") },
	"GB": func(s string) bool { return shape(s, "999999999") },
	"DE": func(s string) bool {
		if len(s) != 9 || indexByte("CFGHJK", s[0]) < 0 {
			return false
		}
		for i := 1; i < 9; i++ {
			if !isDigit(s[i]) && indexByte("CFGHJKLMNPRTVWXYZ", s[i]) < 0 {
				return false
			}
		}
		return true
	},
	"FR": func(s string) bool { return shape(s, "99AA99999") },
	"IN": func(s string) bool { return shape(s, "A9999999") },
	"IT": func(s string) bool { return shape(s, "AA9999999") },
	"ES": func(s string) bool { return shape(s, "AA999999") || shape(s, "AAA999999") },
	"NL": func(s string) bool {
		return len(s) == 9 && shape(s[:2], "AA") && shape(s[8:], "9") && (shape(s[2:8], "XXXXXX"))
	},
	"CA": func(s string) bool { return shape(s, "AA999999") || shape(s, "A999999AA") },
	"AU": func(s string) bool { return shape(s, "A9999999") },
	"CN": func(s string) bool {
		return len(s) == 9 && (s[0] == 'G' || s[0] == 'E') && allDigits(s[1:]) ||
			len(s) == 9 && s[0] == 'E' && isUpper(s[1]) && s[1] != 'I' && s[1] != 'O' && allDigits(s[2:])
	},
	"JP": func(s string) bool { return shape(s, "AA9999999") },
}

// passportFormat reports whether s has the format of a passport number of
// one of the countries in passportFormats.
func passportFormat(s string) bool {
	if len(s) < 8 || len(s) > 9 || s == "000000000" {
		return false
	}
	for _, f := range passportFormats {
		if f(s) {
			return true
		}
	}
	return false
}

// shape matches s against a pattern of '9' (a digit), 'A' (an upper-case
// letter) and 'X' (either).
func shape(s, pat string) bool {
	if len(s) != len(pat) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch pat[i] {
		case '9':
			if !isDigit(c) {
				return false
			}
		case 'A':
			if !isUpper(c) {
				return false
			}
		case 'X':
			if !isDigit(c) && !isUpper(c) {
				return false
			}
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c-'A' < 26 }

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func atoi64(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n
}
