package pii

import "time"

// dobContext are the words that say a date is a date of birth, lower case.
var dobContext = newWords(
	"born", "dob", "d.o.b", "date of birth", "birth date", "birthdate", "birthday", "b-day",
	"geboren", "geburtsdatum", "geb.", "geburtstag",
	"né le", "née le", "né", "née", "date de naissance",
	"fecha de nacimiento", "nacido el", "nacida el", "nació",
	"data di nascita", "nato il", "nata il", "nato a", "nata a",
	"data de nascimento", "nascido em", "nascida em",
	"дата рождения", "родился", "родилась",
	"geboortedatum", "geboren op",
)

// months maps month names and abbreviations (lower case) in English,
// German, French, Spanish, Italian, Portuguese, Dutch and Russian
// (genitive) to their number.
var months = map[string]int{}

// monthSet prefilters months.
var monthSet = newWordSet()

func init() {
	for m, names := range [12][]string{
		{"january", "jan", "januar", "jänner", "janvier", "enero", "gennaio", "janeiro", "januari", "января"},
		{"february", "feb", "februar", "février", "fevrier", "févr", "febrero", "febbraio", "fevereiro", "februari", "февраля"},
		{"march", "mar", "märz", "maerz", "mars", "marzo", "março", "marco", "maart", "марта"},
		{"april", "apr", "avril", "abril", "aprile", "апреля"},
		{"may", "mai", "mayo", "maggio", "maio", "mei", "мая"},
		{"june", "jun", "juni", "juin", "junio", "giugno", "junho", "июня"},
		{"july", "jul", "juli", "juillet", "julio", "luglio", "julho", "июля"},
		{"august", "aug", "août", "aout", "agosto", "augustus", "августа"},
		{"september", "sep", "sept", "septembre", "septiembre", "settembre", "setembro", "сентября"},
		{"october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "outubro", "октября"},
		{"november", "nov", "novembre", "noviembre", "novembro", "ноября"},
		{"december", "dec", "dezember", "dez", "décembre", "decembre", "diciembre", "dicembre", "dezembro", "декабря"},
	} {
		for _, n := range names {
			months[n] = m + 1
			monthSet.add(n)
		}
	}
}

// thisYear bounds plausible birth years.
var thisYear = time.Now().Year()

// monthAt reads a month name at i: letters (ASCII or multi-byte) and an
// optional abbreviation dot. It returns the month (0 if none) and the end.
func (s *scanner) monthAt(i int) (int, int) {
	t := s.text
	j := i
	var buf [24]byte
	n := 0
	for j < len(t) && isLetter(t[j]) && n < len(buf) {
		buf[n] = lower(t[j])
		n++
		j++
	}
	if n < 3 || n == len(buf) {
		return 0, i
	}
	if !monthSet.has(buf[:n]) {
		return 0, i
	}
	m := months[string(buf[:n])]
	if m == 0 {
		return 0, i
	}
	if s.at(j) == '.' {
		j++
	}
	return m, j
}

// num reads one to four digits at i.
func (s *scanner) num(i int) (v, end int) {
	j := i
	for j < len(s.text) && isDigit(s.text[j]) && j-i < 5 {
		v = v*10 + int(s.text[j]-'0')
		j++
	}
	if j-i > 4 {
		return 0, i
	}
	return v, j
}

// skip moves past the bytes of set at i.
func (s *scanner) skip(i int, set string) int {
	for i < len(s.text) && indexByte(set, s.text[i]) >= 0 {
		i++
	}
	return i
}

// word reports whether w (lower case) is at i, and returns its end.
func (s *scanner) word(i int, w string) (int, bool) {
	if i+len(w) > len(s.text) || !eqFold(s.text[i:i+len(w)], w) || isLetter(s.at(i+len(w))) {
		return i, false
	}
	return i + len(w), true
}

// dob checks a date of birth at the run of digits at p: a numeric date
// (1985-03-12, 12.03.1985, 03/12/1985, 12/03/85), a day and a month name
// (12 March 1985, 12. März 1985, 12 de marzo de 1985, 12th of March,
// 1985) or a month name before the day (March 12, 1985). The date must be
// a real calendar date with a plausible birth year, and a context word
// ("born", "DOB", "geboren am", "né le", …) must come before it.
func (s *scanner) dob(p int) {
	t := s.text
	start, end := p, -1
	var y, m, d int
	v1, e1 := s.num(p)
	if e1 == p {
		return
	}
	w1 := e1 - p
	c := s.at(e1)
	switch {
	case (c == '-' || c == '/' || c == '.') && isDigit(s.at(e1+1)):
		v2, e2 := s.num(e1 + 1)
		if s.at(e2) != c || !isDigit(s.at(e2+1)) {
			break
		}
		v3, e3 := s.num(e2 + 1)
		w2, w3 := e2-e1-1, e3-e2-1
		switch {
		case w1 == 4 && w2 <= 2 && w3 <= 2:
			y, m, d = v1, v2, v3
		case w1 <= 2 && w2 <= 2 && (w3 == 4 || w3 == 2):
			y = v3
			if w3 == 2 {
				y += 1900
				if y+100 <= thisYear {
					y += 100
				}
			}
			// day.month.year, or month/day/year when that is the only
			// reading.
			m, d = v2, v1
			if c == '/' && (v2 > 12 || !validDate(y, m, d)) {
				m, d = v1, v2
			}
		}
		end = e3
	default:
		// A day, then a month name: "12 March 1985", "12th of March",
		// "12. März", "12 de marzo de 1985".
		if w1 > 2 || !(isLetter(c) || (c == ' ' || c == '.') && isLetter(s.at(e1+1)) || c == '.' && s.at(e1+1) == ' ') {
			break
		}
		j := e1
		if c == '.' {
			j++
		} else if isLetter(c) {
			j = s.ordinal(e1)
			if j == e1 {
				break // glued to a word that is no ordinal suffix
			}
		}
		j = s.skip(j, " ")
		if !isLetter(s.at(j)) {
			break
		}
		if k, ok := s.word(j, "of"); ok {
			j = s.skip(k, " ")
		} else if k, ok := s.word(j, "de"); ok {
			j = s.skip(k, " ")
		}
		mm, k := s.monthAt(j)
		if mm == 0 {
			break
		}
		k2 := s.skip(k, ", ")
		if k3, ok := s.word(k2, "de"); ok {
			k2 = s.skip(k3, " ")
		}
		yy, k4 := s.num(k2)
		if k4-k2 != 4 {
			break
		}
		y, m, d, end = yy, mm, v1, k4
	}
	if end < 0 && w1 <= 2 && p >= 4 && s.at(p-1) == ' ' && (isLetter(s.at(p-2)) || s.at(p-2) == '.') {
		// A month name before the day: "March 12, 1985", "Mar 12th 1985".
		i := p - 1
		for i > 0 && t[i] == ' ' {
			i--
		}
		if i < p-1 {
			b := i + 1
			for b > 0 && isLetter(t[b-1]) || b > 0 && t[b-1] == '.' && b == i+1 {
				b--
			}
			n := i + 1 - b
			if t[i] == '.' {
				n--
			}
			if n < 3 || n > 23 || monthSet.lens[lower(t[b])]&(1<<n) == 0 {
				// Not a month name: skip the lookup.
			} else if mm, k := s.monthAt(b); mm != 0 && k == i+1 {
				j := s.ordinal(e1)
				j = s.skip(j, ", ")
				if yy, k4 := s.num(j); k4-j == 4 {
					start, y, m, d, end = b, yy, mm, v1, k4
				}
			}
		}
	}
	if end < 0 {
		if !s.eof && len(t)-e1 < 32 && (c == 0 || c == ' ' || c == '.' || c == ',' || isLetter(c)) {
			s.wait(max(0, p-24))
		}
		return
	}
	if s.open(end) || s.open(end+1) {
		s.wait(start)
		return
	}
	if class[s.at(end)]&cWord != 0 || (s.at(end) == '.' || s.at(end) == '-' || s.at(end) == '/') && isDigit(s.at(end+1)) {
		return
	}
	if y > thisYear || !validDate(y, m, d) || y < 1900 {
		return
	}
	if !s.near(start, dobContext) {
		return
	}
	s.add(eDOB, start, end, 0.9)
}

// ordinal returns the end of an ordinal suffix at i ("st", "nd", "rd",
// "th", "er", "º"), or i.
func (s *scanner) ordinal(i int) int {
	if s.at(i) == 0xc2 && s.at(i+1) == 0xba { // º
		return i + 2
	}
	a, b := lower(s.at(i)), lower(s.at(i+1))
	switch {
	case a == 's' && b == 't', a == 'n' && b == 'd', a == 'r' && b == 'd', a == 't' && b == 'h', a == 'e' && b == 'r':
		if !isLetter(s.at(i + 2)) {
			return i + 2
		}
	}
	return i
}
