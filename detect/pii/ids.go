package pii

import "bytes"

// Context words, lower case. A word must start at a word boundary; words
// of up to four bytes must end at one too.
var (
	passportContext = newWords("passport", "reisepass", "passeport", "pasaporte", "passaporto", "paspoort", "passaporte", "паспорт", "pass-nr", "pass nr", "passnummer")
	ninoContext     = newWords("national insurance", "nino", "ni number", "ni no", "ni#")
	esContext       = newWords("dni", "nie", "nif", "documento", "identidad", "id number", "id card")
	nirContext      = newWords("sécurité sociale", "securite sociale", "sécu", "secu", "nir", "insee", "numéro de sécurité", "social security")
	bsnContext      = newWords("bsn", "burgerservicenummer", "sofinummer", "sofi")
	deTaxContext    = newWords("steuer", "steuer-id", "steuerid", "idnr", "identifikationsnummer", "tax id", "tin")
	cpfContext      = newWords("cpf")
	aadhaarContext  = newWords("aadhaar", "aadhar", "uidai", "uid", "आधार")
	cnContext       = newWords("身份证", "resident id", "identity card", "id card", "id number", "id no")
	sinContext      = newWords("sin", "social insurance", "nas", "assurance sociale")
)

// words is a list of context words indexed by their first byte.
type words struct {
	first [256][]string
}

func newWords(ws ...string) *words {
	w := &words{}
	for _, k := range ws {
		w.first[k[0]] = append(w.first[k[0]], k)
	}
	return w
}

// near reports whether one of ws occurs, ignoring ASCII case and at a word
// start, in the lookBehind bytes before i.
func (s *scanner) near(i int, ws *words) bool {
	t := s.text
	from := max(0, i-lookBehind)
	for a := from; a < i; a++ {
		c := lower(t[a])
		cands := ws.first[c]
		if cands == nil || c < 0x80 && a > 0 && isLetter(t[a-1]) {
			continue
		}
		for _, k := range cands {
			end := a + len(k)
			if end > i || !hasPrefixFold(t[a:], k) {
				continue
			}
			if len(k) > 4 || end == len(t) || !isLetter(t[end]) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s begins with k (lower case), ignoring ASCII
// case in s.
func hasPrefixFold(s, k string) bool {
	if len(s) < len(k) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if lower(s[i]) != k[i] {
			return false
		}
	}
	return true
}

// isLetter reports whether c is an ASCII letter or part of a multi-byte
// character.
func isLetter(c byte) bool { return class[c]&(cUpper|cLower) != 0 || c >= 0x80 }

// ident checks national identifiers and passport numbers around the run of
// digits at p: a token of upper-case letters and digits that starts at
// most six letters before p, or a number in one of the grouped forms
// people write identifiers in.
func (s *scanner) ident(p int) {
	t := s.text
	a := p
	for a > 0 && p-a < 6 && isUpper(t[a-1]) {
		a--
	}
	if prev := s.at(a - 1); a == p && indexByte(" -./,", prev) >= 0 && isDigit(s.at(a-2)) {
		return // inside a chain of digit groups
	}
	if class[s.at(a-1)]&cWord != 0 {
		return // glued to a word
	}
	j := p
	for j < len(t) && j-a <= 18 && class[t[j]]&(cUpper|cDigit) != 0 {
		j++
	}
	if s.open(j) {
		s.wait(a)
		return
	}
	if j-a <= 18 && class[s.at(j)]&cWord == 0 && s.identToken(a, j) {
		return
	}
	if a == p {
		s.identGroups(p)
	}
}

// identToken checks the compact token t[a:j]; it reports whether it added
// a hit.
func (s *scanner) identToken(a, j int) bool {
	tok := s.text[a:j]
	on := &s.d.on
	id := func(label string, score float64) bool {
		s.addLabel(eNationalID, a, j, score, label)
		return true
	}
	if on[eNationalID] {
		switch len(tok) {
		case 9:
			switch {
			case esDNI(tok):
				return id("ES_DNI", pick(s.near(a, esContext), 0.95, 0.8))
			case esNIE(tok):
				return id("ES_NIE", pick(s.near(a, esContext), 0.95, 0.85))
			case ukNINO(tok) && s.near(a, ninoContext):
				return id("UK_NINO", 0.9)
			case nlBSN(tok) && s.near(a, bsnContext):
				return id("NL_BSN", 0.9)
			case caSIN(tok) && s.near(a, sinContext):
				return id("CA_SIN", 0.9)
			}
		case 11:
			switch {
			case brCPF(tok) && s.near(a, cpfContext):
				return id("BR_CPF", 0.9)
			case deTaxID(tok) && s.near(a, deTaxContext):
				return id("DE_TAX_ID", 0.9)
			}
		case 12:
			if inAadhaar(tok) && s.near(a, aadhaarContext) {
				return id("IN_AADHAAR", 0.9)
			}
		case 15:
			switch {
			case frNIR(tok) && s.near(a, nirContext):
				// Written without spaces, fifteen digits pass the key by
				// chance too often (card numbers among them) to go
				// without a context word.
				return id("FR_NIR", 0.95)
			case cnResidentID(tok) && s.near(a, cnContext):
				return id("CN_RESIDENT_ID", 0.85)
			}
		case 16:
			if itFiscalCode(tok) {
				return id("IT_FISCAL_CODE", 0.95)
			}
		case 18:
			if cnResidentID(tok) {
				return id("CN_RESIDENT_ID", pick(s.near(a, cnContext), 0.95, 0.85))
			}
		}
	}
	if on[ePassport] && (len(tok) == 8 || len(tok) == 9) && passportFormat(tok) && s.near(a, passportContext) {
		s.add(ePassport, a, j, 0.85)
		return true
	}
	return false
}

func pick(c bool, yes, no float64) float64 {
	if c {
		return yes
	}
	return no
}

// identGroups checks the grouped forms of identifiers starting at p:
// 123.456.789-09 (CPF), 123 456 789 (SIN), 2984 4886 3364 (Aadhaar),
// 1 85 05 78 006 084 36 (NIR) and 12 345 678 901 (Steuer-ID).
func (s *scanner) identGroups(p int) {
	if !s.d.on[eNationalID] {
		return
	}
	t := s.text
	var buf [20]byte
	var g [8]uint8
	var sep [8]byte
	n, ng := 0, 0
	j := p
	for {
		k := j
		for k < len(t) && isDigit(t[k]) {
			if n == len(buf) {
				return
			}
			buf[n] = t[k]
			n++
			k++
		}
		g[ng] = uint8(k - j)
		j = k
		if s.open(j) || s.open(j+1) && bytes.IndexByte([]byte(" -./"), t[j]) >= 0 {
			s.wait(p)
			return
		}
		c := s.at(j)
		if ng+1 < len(g) && (c == ' ' || c == '-' || c == '.' || c == '/') && isDigit(s.at(j+1)) {
			sep[ng] = c
			ng++
			j++
			continue
		}
		ng++
		break
	}
	if ng < 3 || class[s.at(j)]&cWord != 0 || (s.at(j) == '.' || s.at(j) == '-') && isDigit(s.at(j+1)) {
		return
	}
	d := string(buf[:n])
	gs := g[:ng]
	same := func() bool {
		for _, c := range sep[1 : ng-1] {
			if c != sep[0] {
				return false
			}
		}
		return true
	}
	switch {
	case eqGroups(gs, 3, 3, 3, 2) && sep[0] == '.' && sep[1] == '.' && sep[2] == '-':
		if brCPF(d) {
			s.addLabel(eNationalID, p, j, 0.9, "BR_CPF")
		}
	case eqGroups(gs, 3, 3, 3) && same() && (sep[0] == ' ' || sep[0] == '-'):
		if caSIN(d) && s.near(p, sinContext) {
			s.addLabel(eNationalID, p, j, 0.9, "CA_SIN")
		}
	case eqGroups(gs, 4, 4, 4) && same() && (sep[0] == ' ' || sep[0] == '-'):
		if inAadhaar(d) {
			s.addLabel(eNationalID, p, j, pick(s.near(p, aadhaarContext), 0.95, 0.7), "IN_AADHAAR")
		}
	case eqGroups(gs, 1, 2, 2, 2, 3, 3, 2) && same() && sep[0] == ' ':
		if frNIR(d) {
			s.addLabel(eNationalID, p, j, 0.95, "FR_NIR")
		}
	case eqGroups(gs, 2, 3, 3, 3) && same() && (sep[0] == ' ' || sep[0] == '/'):
		if deTaxID(d) && s.near(p, deTaxContext) {
			s.addLabel(eNationalID, p, j, 0.9, "DE_TAX_ID")
		}
	}
}

func eqGroups(g []uint8, want ...uint8) bool {
	if len(g) != len(want) {
		return false
	}
	for i := range g {
		if g[i] != want[i] {
			return false
		}
	}
	return true
}
