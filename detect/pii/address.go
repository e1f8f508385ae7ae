package pii

// streetTypes are street-type words (lower case, abbreviations with their
// dot) that follow the street name: "221 Baker Street", "5 Av. Foch".
var streetTypes = newWordSet()

// streetFirst are street-type words that come before the name, with the
// number after it or before: "Calle Mayor 5", "12 rue de la Paix".
var streetFirst = newWordSet()

// streetSuffixes end compound street names: "Hauptstraße 5",
// "Koskikatu 25", "Storgatan 3".
var streetSuffixes = []string{"straße", "strasse", "str.", "weg", "platz", "gasse", "allee", "damm", "ring", "straat", "laan", "gracht", "plein", "katu", "gatan", "vägen", "vej", "veien", "gade", "utca", "ulica"}

func init() {
	for _, w := range []string{
		"street", "st", "st.", "avenue", "ave", "ave.", "road", "rd", "rd.", "lane", "ln", "ln.", "boulevard", "blvd", "blvd.",
		"drive", "dr", "dr.", "court", "ct", "ct.", "place", "pl", "pl.", "way", "terrace", "parkway", "pkwy", "highway", "hwy",
		"circle", "cir", "square", "sq", "crescent", "close", "trail", "row", "walk", "gardens", "heights", "hill", "park",
		"plaza", "alley", "bypass", "causeway", "grove", "mews", "view", "forges", "ridge", "route", "pike", "loop", "run",
		"path", "point", "springs", "station", "summit", "village", "vista", "center", "centre", "crossing", "estates",
		"falls", "fields", "harbor", "island", "junction", "meadows", "mill", "mills", "mount", "orchard", "pass", "port",
		"ranch", "shore", "shores", "turnpike", "valley", "wells",
	} {
		streetTypes.add(w)
	}
	for _, w := range []string{
		"rue", "avenue", "av.", "boulevard", "bd", "bd.", "chemin", "impasse", "allée", "quai", "place", "route", "cours",
		"calle", "c/", "avenida", "avda.", "paseo", "plaza", "camino", "carrera", "ronda", "travesía",
		"via", "viale", "piazza", "corso", "vicolo", "largo", "strada",
		"rua", "travessa", "praça", "estrada", "alameda", "avenue", "улица", "ул.",
	} {
		streetFirst.add(w)
	}
}

// wordAt reads a word at i (letters, ASCII or not, with an abbreviation
// dot) and returns its end; the word is lowered into buf.
func (s *scanner) wordAt(i int, buf []byte) (w []byte, end int) {
	t := s.text
	j := i
	n := 0
	for j < len(t) && (isLetter(t[j]) || t[j] == '\'' || t[j] == '/' && j > i) {
		if n < len(buf) {
			buf[n] = lower(t[j])
		}
		n++
		j++
	}
	if j < len(t) && t[j] == '.' && j > i {
		if n < len(buf) {
			buf[n] = '.'
		}
		n++
		j++
	}
	if n > len(buf) {
		return nil, j
	}
	return buf[:n], j
}

func hasStreetSuffix(w []byte) bool {
	if len(w) < 5 || !suffixLast[w[len(w)-1]] {
		return false
	}
	for _, suf := range streetSuffixes {
		if len(w) > len(suf) && string(w[len(w)-len(suf):]) == suf {
			return true
		}
	}
	return false
}

// suffixLast marks the last bytes of streetSuffixes.
var suffixLast = func() (m [256]bool) {
	for _, s := range streetSuffixes {
		m[s[len(s)-1]] = true
	}
	return m
}()

// address checks a street address at the house number at p: the number,
// up to five words of street name with a street-type word among them
// ("221B Baker Street", "12 rue de la Paix", "25 Koskikatu"), or a street
// name before the number ("Hauptstraße 5", "Calle Mayor 12", "Via Roma
// 10"); then an optional unit ("Apt. 864", "Suite 5").
func (s *scanner) address(p int) {
	t := s.text
	v, e := s.num(p)
	if e == p || e-p > 5 || v == 0 {
		return
	}
	if isUpper(s.at(e)) && !isLetter(s.at(e+1)) { // 221B
		e++
	}
	var buf [24]byte
	start, end := -1, -1
	// The number first.
	if s.at(e) == ' ' && isLetter(s.at(e+1)) {
		j := e + 1
		for w := 0; w < 5; w++ {
			if s.open(j) {
				s.wait(max(0, p-streetBack)) // a street name before the number may yet be the hit
				return
			}
			if j >= len(t) {
				break
			}
			word, k := s.wordAt(j, buf[:])
			if k == j {
				break
			}
			if s.open(k) {
				s.wait(max(0, p-streetBack))
				return
			}
			capital := isUpperOrNonASCII(t[j])
			if !capital && word != nil && !streetFirst.has(word) && !(w > 0 && (streetTypes.has(word) || connector(word))) {
				break // street names are capitalised: "2023 the team" is no address
			}
			if word != nil && (streetTypes.has(word) && w > 0 || streetFirst.has(word) && w == 0 || capital && hasStreetSuffix(word)) {
				start, end = p, k
				if streetFirst.has(word) && w == 0 {
					end = -1 // the name must follow: "12 rue de la Paix"
				}
			}
			if s.at(k) != ' ' {
				if start >= 0 && end < 0 && w > 0 {
					end = k
				}
				break
			}
			if start >= 0 && end < 0 && w >= 1 && !isUpperOrNonASCII(s.at(k+1)) && w >= 2 {
				end = k
			}
			j = k + 1
		}
		if start >= 0 && end < 0 {
			start = -1
		}
	}
	// The street name first: up to four words back on the same line.
	if start < 0 {
		b := p - 1
		if b < 0 || t[b] != ' ' {
			return
		}
		for w := 0; w < 4 && b > 0 && p-b < streetBack; w++ {
			a := b
			for a > 0 && (isLetter(t[a-1]) || t[a-1] == '.' || t[a-1] == '\'' || t[a-1] == '/') {
				a--
			}
			if a == b || p-a >= streetBack {
				break
			}
			word, _ := s.wordAt(a, buf[:])
			if !isUpperOrNonASCII(t[a]) && (word == nil || !streetFirst.has(word) && !connector(word)) {
				break // "panel 12": street names are capitalised
			}
			if word != nil && (streetFirst.has(word) || w == 0 && hasStreetSuffix(word)) {
				if !isUpperOrNonASCII(t[a]) && !streetFirst.has(word) {
					break
				}
				start, end = a, e
			}
			if a == 0 || t[a-1] != ' ' {
				break
			}
			b = a - 1
		}
		if start < 0 {
			return
		}
	}
	if s.open(end) || s.open(end+1) {
		s.wait(start)
		return
	}
	if class[s.at(end)]&cDigit != 0 {
		return
	}
	end, ok := s.addrTail(start, end)
	if !ok {
		return
	}
	s.addrEnd = end
	s.add(eAddress, start, end, 0.7)
}

// addrTail extends a street address that ends at end over what usually
// follows it: the house number after a street name ("Koskikatu 25"),
// units ("Apt. 864", "Suite 5"), and up to three more parts on the same
// or the next lines made of capitalised words, state codes and postcodes
// (", Springfield, IL 62704", "\n Riisa\n Estonia 62488"). It reports
// false when that depends on text still to come (and has waited).
func (s *scanner) addrTail(start, end int) (int, bool) {
	t := s.text
	limit := min(len(t), start+maxAddress)
	// A house number after the street name.
	if s.at(end) == ' ' && isDigit(s.at(end+1)) {
		_, k := s.num(end + 1)
		if s.open(k) || s.open(k+1) {
			s.wait(start)
			return 0, false
		}
		if k-end-1 <= 5 && !isLetter(s.at(k)) && !isDigit(s.at(k)) && !(s.at(k) == '.' || s.at(k) == ',') || (s.at(k) == ',' || s.at(k) == '.') && !isDigit(s.at(k+1)) {
			end = k
		}
	}
	var ub [8]byte
	for parts := 0; parts < 5; {
		j := end
		newline := false
		for j < limit && (t[j] == ' ' || t[j] == ',' || t[j] == '\n') && j-end < 6 {
			newline = newline || t[j] == '\n'
			j++
		}
		if j == end && parts > 0 || j >= limit {
			if s.open(j) {
				s.wait(start)
				return 0, false
			}
			break
		}
		word, k := s.wordAt(j, ub[:])
		if s.open(k) || s.open(k+1) {
			s.wait(start)
			return 0, false
		}
		if word != nil && isUnit(word) {
			k = s.skip(k, " #")
			if _, k2 := s.num(k); k2 > k && k2 <= limit {
				if s.open(k2) {
					s.wait(start)
					return 0, false
				}
				end = k2
				parts++
				continue
			}
			break
		}
		if parts >= 4 || !newline && s.at(j-1) != ',' && s.at(j-1) != ' ' {
			break
		}
		// A part: capitalised words, all-capital codes and a postcode,
		// up to the next comma or line end.
		e, ok := s.addrPart(j, limit)
		if e < 0 {
			s.wait(start)
			return 0, false
		}
		if !ok || e == j || !newline && s.at(j-1) == ' ' && s.at(j-2) != ',' {
			break
		}
		end = e
		parts++
	}
	return end, true
}

// maxAddress bounds a street address with its city, region and postcode.
const maxAddress = 200

// addrPart reads one part of an address after the street at i: words that
// start with a capital letter, connectors and numbers of up to six digits,
// up to a comma or a line end. It returns the end, -1 when that depends on
// text still to come, and false when the part holds anything else.
func (s *scanner) addrPart(i, limit int) (int, bool) {
	t := s.text
	j := i
	end := i
	var buf [16]byte
	for j < limit {
		c := t[j]
		switch {
		case c == ' ':
			j++
			continue
		case c == ',' || c == '\n':
			return end, end > i
		case isDigit(c):
			_, k := s.num(j)
			if k-j > 6 || k == j {
				for k < len(t) && isDigit(t[k]) {
					k++
				}
				if k-j > 6 {
					return end, false
				}
			}
			if s.open(k) {
				return -1, false
			}
			if isLetter(s.at(k)) {
				return end, false
			}
			j, end = k, k
		case isUpperOrNonASCII(c):
			_, k := s.wordAt(j, buf[:])
			if s.open(k) {
				return -1, false
			}
			if k == j {
				return end, false
			}
			j, end = k, k
		default:
			w, k := s.wordAt(j, buf[:])
			if k == j || w == nil || !connector(w) {
				return end, end > i && (c == '.' || c == ';' || c == ')' || c == '!' || c == '?')
			}
			j = k
		}
	}
	if s.open(j) {
		return -1, false
	}
	return end, end > i
}

func isUnit(w []byte) bool {
	switch string(w) {
	case "apt.", "apt", "suite", "unit", "flat", "floor", "fl.", "ste", "ste.", "bte", "piso", "étage", "whg.", "box", "postbox":
		return true
	}
	return false
}

// streetBack bounds how far before a house number a street name may start.
const streetBack = 48

func isUpperOrNonASCII(c byte) bool { return isUpper(c) || c >= 0x80 }

// connector reports whether w joins the words of a street name: "rue de
// la Paix", "Calle del Sol", "Avenue of the Americas".
func connector(w []byte) bool {
	switch string(w) {
	case "de", "la", "le", "les", "du", "des", "del", "di", "da", "do", "dos", "das", "della", "of", "the", "van", "von", "der", "den", "y", "e":
		return true
	}
	return false
}
