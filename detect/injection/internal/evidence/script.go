package evidence

// Script is a writing system, as far as the classifier cares.
type Script uint8

// The scripts.
const (
	ScriptNone Script = iota
	ScriptLatin
	ScriptCyrillic
	ScriptGreek
	ScriptArabic
	ScriptDevanagari
	ScriptBengali
	ScriptThai
	ScriptHangul
	ScriptKana
	ScriptHan
	ScriptOther
	numScripts
)

var scriptNames = [numScripts]string{"none", "latin", "cyrillic", "greek", "arabic", "devanagari", "bengali", "thai", "hangul", "kana", "han", "other"}

func (s Script) String() string {
	if s < numScripts {
		return scriptNames[s]
	}
	return "unknown"
}

// ParseScript returns the script with the given name.
func ParseScript(name string) (Script, bool) {
	for i, n := range scriptNames {
		if n == name {
			return Script(i), true
		}
	}
	return 0, false
}

// DominantScript returns the script most of the letters of the UTF-8 text
// s are written in, judged from lead bytes (no decoding). Japanese text
// (any kana among Han characters) counts as kana.
func DominantScript(s []byte) Script {
	if isASCII(s) {
		for _, c := range s {
			if 'a' <= c|0x20 && c|0x20 <= 'z' {
				return ScriptLatin
			}
		}
		return ScriptNone
	}
	var n [numScripts]int
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x80:
			if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
				n[ScriptLatin]++
			}
			i++
			continue
		case c < 0xC0:
			i++ // stray continuation byte
			continue
		case c < 0xE0:
			switch {
			case c <= 0xC9:
				n[ScriptLatin]++
			case c == 0xCE || c == 0xCF:
				n[ScriptGreek]++
			case c >= 0xD0 && c <= 0xD4:
				n[ScriptCyrillic]++
			case c >= 0xD8 && c <= 0xDB:
				n[ScriptArabic]++
			default:
				n[ScriptOther]++
			}
			i += 2
			continue
		case c < 0xF0:
			var c1 byte
			if i+1 < len(s) {
				c1 = s[i+1]
			}
			switch {
			case c == 0xE0 && (c1 == 0xA4 || c1 == 0xA5):
				n[ScriptDevanagari]++
			case c == 0xE0 && (c1 == 0xA6 || c1 == 0xA7):
				n[ScriptBengali]++
			case c == 0xE0 && (c1 == 0xB8 || c1 == 0xB9):
				n[ScriptThai]++
			case c == 0xE3 && c1 >= 0x81 && c1 <= 0x83:
				n[ScriptKana]++
			case c == 0xE3 && c1 >= 0x90, c >= 0xE4 && c <= 0xE9:
				n[ScriptHan]++
			case c >= 0xEA && c <= 0xED:
				n[ScriptHangul]++
			case c == 0xEF && c1 >= 0xBC: // full-width forms
				n[ScriptLatin]++
			default:
				n[ScriptOther]++
			}
			i += 3
			continue
		default:
			n[ScriptOther]++
			i += 4
		}
	}
	best, bn := ScriptNone, 0
	for sc := ScriptLatin; sc < numScripts; sc++ {
		if n[sc] > bn {
			best, bn = sc, n[sc]
		}
	}
	if best == ScriptHan && n[ScriptKana] > 0 {
		best = ScriptKana
	}
	return best
}

// Scripts is a set of scripts.
type Scripts uint32

// Has reports whether s is in the set.
func (ss Scripts) Has(s Script) bool { return ss&(1<<s) != 0 }

// With returns the set with s added.
func (ss Scripts) With(s Script) Scripts { return ss | 1<<s }
