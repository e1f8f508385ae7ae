package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameTriggers maps the word just before a name (lower case, with its
// trailing '.' or ':') to the phrases ending in it that introduce a name;
// "" means the word alone does (a title such as "Mr." or "Frau").
var nameTriggers = map[string][]string{}

func init() {
	for _, w := range []string{
		"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx.", "dr", "dr.", "prof", "prof.", "sir", "madam", "dear",
		"herr", "frau", "m.", "mme", "mme.", "mlle", "monsieur", "madame",
		"sr", "sr.", "sra", "sra.", "srta", "srta.", "señor", "señora", "don", "doña",
		"sig.", "sig.ra", "signor", "signora", "dott.", "dott.ssa",
		"dhr.", "mevr.", "name:", "named", "called", "nome:", "nom:", "nombre:",
	} {
		nameTriggers[w] = []string{""}
	}
	for _, p := range []string{
		"my name is", "name is", "his name is", "her name is", "i am", "i'm", "this is",
		"je m'appelle", "je suis", "ich heiße", "ich heisse", "ich bin", "mein name ist",
		"me llamo", "mi nombre es", "soy", "mi chiamo", "sono", "meu nome é", "me chamo", "меня зовут",
		"signed", "regards,", "sincerely,", "contact person",
	} {
		k := strings.LastIndexByte(p, ' ')
		last := p[k+1:]
		nameTriggers[last] = append(nameTriggers[last], p)
	}
}

// capitalAt reports whether a capitalised word starts at i (an upper-case
// letter, ASCII or not, after a non-letter) and the size of its first
// letter.
func (s *scanner) capitalAt(i int) (bool, int) {
	c := s.text[i]
	if c < utf8.RuneSelf {
		return isUpper(c), 1
	}
	r, n := utf8.DecodeRuneInString(s.text[i:])
	return unicode.IsUpper(r), n
}

// persons finds names after a title or an introducing phrase: "Mr. John
// Smith", "Frau Müller", "my name is Ana María López", "Name: Åsa Laine".
// Only the capitalised words after the trigger are reported.
func (s *scanner) persons() {
	t := s.text
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != ' ' && c != '\t' && c != '\n' {
			continue
		}
		j := i + 1
		if j >= len(t) {
			break
		}
		if ok, _ := s.capitalAt(j); !ok {
			continue
		}
		if !s.nameTrigger(i) {
			continue
		}
		// A title after a trigger ("Dear Mr."): the name follows it.
		var buf [8]byte
		if w, _ := s.wordAt(j, buf[:]); w != nil && len(nameTriggers[string(w)]) > 0 && nameTriggers[string(w)][0] == "" {
			continue
		}
		s.person(j)
	}
}

// nameTrigger reports whether the text just before the space at i ends
// with a name trigger.
func (s *scanner) nameTrigger(i int) bool {
	t := s.text
	b := i
	for b > 0 && i-b < 12 && t[b-1] != ' ' && t[b-1] != '\n' && t[b-1] != '\t' {
		b--
	}
	if b == i || i-b >= 12 {
		return false
	}
	var buf [12]byte
	w := buf[:i-b]
	for k := range w {
		w[k] = lower(t[b+k])
	}
	// A trigger must itself start a word.
	if b > 0 && isLetter(t[b-1]) {
		return false
	}
	phrases, ok := nameTriggers[string(w)]
	if !ok {
		return false
	}
	for _, p := range phrases {
		if p == "" {
			return true
		}
		if i >= len(p) && strings.EqualFold(t[i-len(p):i], p) && (i == len(p) || !isLetter(t[i-len(p)-1])) {
			return true
		}
	}
	return false
}

// person reads one to four capitalised words (or initials) at j, joined by
// single spaces or hyphens, and reports them as a name.
func (s *scanner) person(j int) {
	t := s.text
	end := j
	words := 0
	k := j
	for words < 4 && k < len(t) {
		ok, n := s.capitalAt(k)
		if !ok {
			break
		}
		e := k + n
		for e < len(t) {
			r, m := rune(t[e]), 1
			if t[e] >= utf8.RuneSelf {
				r, m = utf8.DecodeRuneInString(t[e:])
			}
			if !unicode.IsLetter(r) && r != '\'' && r != '-' {
				break
			}
			e += m
		}
		if s.open(e) {
			s.wait(j)
			return
		}
		if e-k == n && s.at(e) == '.' { // an initial: "J."
			e++
		}
		if e-k < 2 && words > 0 {
			break
		}
		words++
		end = e
		if s.at(e) != ' ' {
			break
		}
		if s.open(e + 1) {
			s.wait(j)
			return
		}
		k = e + 1
	}
	for end > j && (t[end-1] == '-' || t[end-1] == '\'') {
		end--
	}
	if words == 0 || end-j < 2 {
		return
	}
	s.add(ePerson, j, end, 0.7)
}
