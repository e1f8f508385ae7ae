package textnorm

//go:generate go run ./internal/mkconfusables -o confusables_table.go

import "unicode"

// confEntry is one slot of the open-addressing confusables index.
type confEntry struct {
	r      rune
	idx    uint16 // index into confusableTable
	strict bool   // r itself is a source in the data, not via its upper case
}

const confBits = 12

var confIndex [1 << confBits]confEntry

func confHash(r rune) uint32 {
	return (uint32(r) * 2654435761) >> (32 - confBits)
}

func init() {
	if len(confusableTable) > len(confIndex)/2 {
		panic("textnorm: confusables index too small")
	}
	put := func(k rune, i int, strict bool) {
		h := confHash(k)
		for {
			e := &confIndex[h]
			if e.r == 0 {
				*e = confEntry{r: k, idx: uint16(i), strict: strict}
				return
			}
			if e.r == k {
				if strict && !e.strict {
					*e = confEntry{r: k, idx: uint16(i), strict: true}
				}
				return
			}
			h = (h + 1) & (1<<confBits - 1)
		}
	}
	for i, c := range confusableTable {
		k := unicode.ToLower(c.r)
		put(k, i, k == c.r)
	}
}

// lookupConf finds r (already lower-cased) in the index.
func lookupConf(r rune) (proto string, strict, ok bool) {
	h := confHash(r)
	for {
		e := &confIndex[h]
		if e.r == r {
			return confusableTable[e.idx].s, e.strict, true
		}
		if e.r == 0 {
			return "", false, false
		}
		h = (h + 1) & (1<<confBits - 1)
	}
}

// Confusable returns the lower-case ASCII prototype that UTS #39 gives the
// letter r or its upper-case form (Cyrillic "а" → "a", Greek "Ν" → "n",
// fullwidth and mathematical forms are NFKC's job), and whether there is
// one. Only non-ASCII letters whose prototype is made of ASCII letters are
// covered.
func Confusable(r rune) (string, bool) {
	if r < 0x80 {
		return "", false
	}
	p, _, ok := lookupConf(unicode.ToLower(r))
	return p, ok
}

// ConfusableExact is like Confusable but only for letters that are
// themselves confusable with their prototype, not just their upper-case
// form: Cyrillic "о" is, Cyrillic "в" (whose upper case "В" looks like
// "B") is not.
func ConfusableExact(r rune) (string, bool) {
	if r < 0x80 {
		return "", false
	}
	lr := unicode.ToLower(r)
	p, strict, ok := lookupConf(lr)
	if !ok || !strict && lr == r {
		return "", false
	}
	if lr != r {
		// An upper-case letter: exact when it is itself a source.
		for _, c := range confusableTable {
			if c.r == r {
				return c.s, true
			}
		}
		return "", false
	}
	return p, true
}

// IsLatin reports whether r is a letter of the Latin script.
func IsLatin(r rune) bool {
	if r < 0x80 {
		return r|0x20 >= 'a' && r|0x20 <= 'z'
	}
	if r < 0x250 {
		return r >= 0xC0 && r != 0xD7 && r != 0xF7 || r == 0xAA || r == 0xBA
	}
	return unicode.Is(unicode.Latin, r)
}
